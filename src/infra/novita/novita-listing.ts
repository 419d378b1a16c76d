import { Injectable } from '@nestjs/common';
import { CacheRegistry } from '../metrics/cache-registry';
import { NovitaClient } from './novita-client';
import { NovitaInstance } from './novita.types';

export const NOVITA_LISTING_CACHE = 'novita-listing';
/**
 * How long a complete walk of Novita's instance list is reused. Long enough for the comprehensive
 * listing that triggers a sync pass to reuse that pass's walk (and for a burst of listings to share
 * one), short enough that nobody mistakes it for a view of Novita.
 */
export const NOVITA_LISTING_TTL_MS = 5_000;

export interface Walk {
  instances: NovitaInstance[];
  /** When the walk started: its age is counted from the first page asked. */
  at: number;
}

/**
 * Novita's whole (unfiltered) instance list, from a walk finished less than NOVITA_LISTING_TTL_MS
 * ago or a new one that concurrent callers share. Sync passes fill it with the walk they made.
 *
 * Only for reads that show Novita's state (the comprehensive listing). Anything whose decision
 * cannot be undone (sync's obsolete handling, intents, the create lookup by name, migrations) walks
 * Novita itself: a listing a few seconds old may miss an instance created since.
 */
@Injectable()
export class NovitaListing {
  private last: Walk | null = null;
  private walking: { promise: Promise<Walk>; at: number } | null = null;
  /** Bumped by clear(): a walk started before the clear neither fills the cache nor serves later callers. */
  private generation = 0;

  constructor(
    private readonly novita: NovitaClient,
    private readonly caches: CacheRegistry,
  ) {
    caches.register({
      name: NOVITA_LISTING_CACHE,
      description: `Novita's whole instance list, reused for ${NOVITA_LISTING_TTL_MS / 1000} s by the comprehensive listing (sync passes fill it)`,
      entries: () => (this.fresh(Date.now()) ? this.last!.instances.length : 0),
      sizeBytes: () => (this.fresh(Date.now()) ? JSON.stringify(this.last!.instances).length : 0),
      clear: () => {
        this.last = null;
        this.walking = null;
        this.generation++;
      },
    });
  }

  /**
   * The last walk when it is fresh and started at or after `notBefore`, else a new walk (one shared by
   * concurrent callers). `now` is for tests.
   */
  async walk(opts: { notBefore?: number; now?: number } = {}): Promise<Walk> {
    const now = opts.now ?? Date.now();
    const notBefore = opts.notBefore ?? 0;
    if (this.fresh(now) && this.last!.at >= notBefore) {
      this.caches.hit(NOVITA_LISTING_CACHE);
      return this.last!;
    }
    this.caches.miss(NOVITA_LISTING_CACHE);
    if (!this.walking || this.walking.at < notBefore) {
      const generation = this.generation;
      const promise = this.novita.listAllPages().then((instances) => {
        const walk = { instances, at: now };
        if (generation === this.generation) this.remember(walk.instances, walk.at);
        return walk;
      });
      const walking = { promise, at: now };
      const done = (): void => {
        if (this.walking === walking) this.walking = null;
      };
      promise.then(done, done);
      this.walking = walking;
    }
    return this.walking.promise;
  }

  /** A complete walk of the unfiltered list made elsewhere (a sync pass), started at `startedAt`. */
  remember(instances: NovitaInstance[], startedAt: number): void {
    if (this.last && this.last.at > startedAt) return;
    this.last = { instances, at: startedAt };
  }

  private fresh(now: number): boolean {
    return this.last !== null && now - this.last.at < NOVITA_LISTING_TTL_MS;
  }
}
