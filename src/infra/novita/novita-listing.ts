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
  /** The last walk's instances by id, for reuse by the next walk (see reuse); built when first needed. */
  private lastById: Map<string, NovitaInstance> | null = null;
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
        this.lastById = null;
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
    this.lastById = null;
  }

  /**
   * A page of a new walk with every instance equal in every field to the last walk's replaced by
   * that walk's object. Why: a walk keeps its 10,000 instances until it is remembered, so each
   * survives the young collections made meanwhile and is copied into the old generation, pass after
   * pass; an instance that has not changed is the old object, and the new one dies young.
   */
  reuse(instances: NovitaInstance[]): NovitaInstance[] {
    if (this.last === null) return instances;
    const byId = (this.lastById ??= new Map(this.last.instances.map((i) => [i.id, i])));
    return instances.map((inst) => {
      const prev = byId.get(inst.id);
      return prev !== undefined && sameValue(prev, inst) ? prev : inst;
    });
  }

  private fresh(now: number): boolean {
    return this.last !== null && now - this.last.at < NOVITA_LISTING_TTL_MS;
  }
}

/** Deep equality of JSON-like values (plain objects, arrays, primitives, undefined). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keys = 0;
  for (const key in x) {
    if (!Object.hasOwn(y, key) || !sameValue(x[key], y[key])) return false;
    keys++;
  }
  for (const key in y) if (Object.hasOwn(y, key)) keys--;
  return keys === 0;
}
