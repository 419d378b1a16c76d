/**
 * Fault injection for the Novita API routes: hangs, 429 bursts, random 5xx and latency,
 * optionally limited to some paths. Randomness comes from a seeded RNG so runs are repeatable.
 */
import { SimRng } from './sim-clock';
import { SimError } from './sim-errors';
import { FaultConfig } from './sim-types';

export type FaultDecision =
  | { kind: 'hang'; latencyMs: number }
  | { kind: 'hold'; latencyMs: number }
  | { kind: 'error'; error: SimError; latencyMs: number }
  | { kind: 'pass'; latencyMs: number };

export class SimFaults {
  private config: FaultConfig = {};
  private burstLeft = 0;
  private hangLeft = 0;
  private holdLeft = 0;

  constructor(private readonly rng: SimRng) {}

  /** Merges into the current configuration; counts (burst429, hang) restart from the given values. */
  inject(faults: FaultConfig): void {
    this.config = { ...this.config, ...faults };
    if (faults.burst429) this.burstLeft = faults.burst429.count;
    if (faults.hang !== undefined) this.hangLeft = typeof faults.hang === 'object' ? faults.hang.count : 0;
    if (faults.holdResponse !== undefined)
      this.holdLeft = typeof faults.holdResponse === 'object' ? faults.holdResponse.count : 0;
  }

  clear(): void {
    this.config = {};
    this.burstLeft = 0;
    this.hangLeft = 0;
    this.holdLeft = 0;
  }

  current(): FaultConfig & { burst429Left: number; hangLeft: number; holdLeft: number } {
    return { ...this.config, burst429Left: this.burstLeft, hangLeft: this.hangLeft, holdLeft: this.holdLeft };
  }

  /** Decides what happens to one API request (path relative to the API base). */
  decide(path: string): FaultDecision {
    const c = this.config;
    if (
      c.paths?.length &&
      !c.paths.some(
        (p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`) || path.startsWith(`${p}?`),
      )
    ) {
      return { kind: 'pass', latencyMs: 0 };
    }
    const latencyMs = c.latencyMs ?? 0;
    if (c.hang === true) return { kind: 'hang', latencyMs };
    if (this.hangLeft > 0) {
      this.hangLeft--;
      return { kind: 'hang', latencyMs };
    }
    if (c.holdResponse === true) return { kind: 'hold', latencyMs };
    if (this.holdLeft > 0) {
      this.holdLeft--;
      return { kind: 'hold', latencyMs };
    }
    if (this.burstLeft > 0 && c.burst429) {
      this.burstLeft--;
      const error = new SimError(429, 'RATE_LIMIT_EXCEEDED', 'rate limit exceeded', {
        'retry-after': String(c.burst429.retryAfterSeconds),
      });
      return { kind: 'error', error, latencyMs };
    }
    if (c.errorRate && this.rng.next() < c.errorRate) {
      const status = c.errorStatus ?? 500;
      const reason = status === 503 ? 'SERVICE_UNAVAILABLE' : status === 504 ? 'GATEWAY_TIMEOUT' : 'UNKNOWN';
      return { kind: 'error', error: new SimError(status, reason, 'injected server error'), latencyMs };
    }
    return { kind: 'pass', latencyMs };
  }
}
