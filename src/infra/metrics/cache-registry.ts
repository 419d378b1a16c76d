import { Injectable } from '@nestjs/common';

/**
 * A cache of something that can be fetched again: derived from Novita, or this process's copy of
 * records the store keeps. Clearing one only costs a few extra Novita calls or store reads; nothing
 * only the store holds (records, operations, outbox, idempotency keys, rate-limit counters) is ever
 * registered here.
 */
export interface CacheSource {
  name: string;
  description: string;
  /** Entries held now. */
  entries(): number | Promise<number>;
  /** Approximate bytes held (JSON length); 0 for a cache that only marks what is fresh. */
  sizeBytes(): number | Promise<number>;
  clear(): void | Promise<void>;
  /** For a cache that counts its own look-ups; others are counted through hit() and miss(). */
  lookups?(): { hits: number; misses: number };
}

export interface CacheStats {
  name: string;
  description: string;
  entries: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 before the first look-up. */
  hitRatio: number;
  sizeBytes: number;
}

/** The process's caches with their hit and miss counts; used by /api/cache/* and /metrics. */
@Injectable()
export class CacheRegistry {
  private readonly sources = new Map<string, CacheSource>();
  private readonly counts = new Map<string, { hits: number; misses: number }>();

  register(source: CacheSource): void {
    this.sources.set(source.name, source);
    if (!this.counts.has(source.name)) this.counts.set(source.name, { hits: 0, misses: 0 });
  }

  names(): string[] {
    return [...this.sources.keys()];
  }

  hit(name: string): void {
    this.count(name).hits++;
  }

  miss(name: string): void {
    this.count(name).misses++;
  }

  async stats(): Promise<CacheStats[]> {
    return Promise.all(
      [...this.sources.values()].map(async (s) => {
        const { hits, misses } = s.lookups?.() ?? this.count(s.name);
        return {
          name: s.name,
          description: s.description,
          entries: await s.entries(),
          hits,
          misses,
          hitRatio: ratio(hits, misses),
          sizeBytes: await s.sizeBytes(),
        };
      }),
    );
  }

  /** Clears the named caches (all when none are named); unknown names are the caller's error, checked first. */
  async clear(names?: string[]): Promise<string[]> {
    const chosen = names && names.length > 0 ? names : this.names();
    const unknown = chosen.filter((n) => !this.sources.has(n));
    if (unknown.length > 0) throw new UnknownCacheError(unknown, this.names());
    for (const n of chosen) await this.sources.get(n)!.clear();
    return chosen;
  }

  private count(name: string): { hits: number; misses: number } {
    let c = this.counts.get(name);
    if (!c) this.counts.set(name, (c = { hits: 0, misses: 0 }));
    return c;
  }
}

export class UnknownCacheError extends Error {
  constructor(
    readonly unknown: string[],
    readonly known: string[],
  ) {
    super(
      `Unknown cache${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${known.join(', ')})`,
    );
  }
}

export function ratio(hits: number, misses: number): number {
  const total = hits + misses;
  return total === 0 ? 0 : Math.round((hits / total) * 10000) / 10000;
}
