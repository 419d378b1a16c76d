import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { StateStore } from '../../infra/store/state-store';

const PING_TIMEOUT_MS = 1500;

/** Readiness depends on the store alone: without it no state can be read or written. */
@Injectable()
export class StoreHealthIndicator {
  static readonly KEY = 'store';

  constructor(
    private readonly store: StateStore,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.indicators.check(StoreHealthIndicator.KEY);
    const started = Date.now();
    try {
      await withTimeout(this.store.ping(), PING_TIMEOUT_MS);
      return indicator.up({ adapter: this.store.kind, latencyMs: Date.now() - started });
    } catch (err) {
      return indicator.down({ adapter: this.store.kind, message: (err as Error).message });
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`store ping timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
