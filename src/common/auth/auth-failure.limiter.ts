import { Inject, Injectable } from '@nestjs/common';
import type { SecurityConfig } from '../../config/config.types';
import { StateStore } from '../../infra/store/state-store';
import { AppError, ErrorCode } from '../errors';
import { SECURITY_CONFIG } from './auth.tokens';

/** Bound on remembered addresses; past it the oldest are forgotten (they fail once more before a check). */
const MAX_SUSPECTS = 10_000;

/**
 * Budget of failed authentications per client address, so API keys cannot be guessed at full speed.
 * Fixed window in the state store (shared by replicas). Once an address is over budget every request
 * from it is refused before its key is compared: answering a correct key normally would turn the 429s
 * into an oracle that still confirms a guess.
 *
 * Only addresses that failed on this replica within the window are checked against the store, so a
 * client that authenticates correctly costs no store round trip. An address blocked through other
 * replicas is therefore refused here from its first failure on this replica.
 */
@Injectable()
export class AuthFailureLimiter {
  /** Address -> when its latest failure's window ends (epoch ms). */
  private readonly suspects = new Map<string, number>();

  constructor(
    private readonly store: StateStore,
    @Inject(SECURITY_CONFIG) private readonly security: SecurityConfig,
  ) {}

  /** Throws 429 while the address has used up its budget. */
  async assertNotBlocked(address: string): Promise<void> {
    if (!this.isSuspect(address)) return;
    const key = this.key(address);
    const failures = (await this.store.get<number>(key)) ?? 0;
    if (failures >= this.security.authFailureMaxAttempts) throw await this.tooMany(key);
  }

  /** Counts one failure; returns the 429 to throw when this failure exhausted the budget, else null. */
  async recordFailure(address: string): Promise<AppError | null> {
    const key = this.key(address);
    this.remember(address);
    const failures = await this.store.increment(key, 1, this.security.authFailureWindowMs);
    return failures > this.security.authFailureMaxAttempts ? this.tooMany(key) : null;
  }

  /** True while the address failed on this replica within the window: its requests are checked against the store. */
  isSuspect(address: string): boolean {
    const until = this.suspects.get(address);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.suspects.delete(address);
    return false;
  }

  private remember(address: string): void {
    // Re-inserted so the Map's order stays oldest-failure-first for eviction.
    this.suspects.delete(address);
    if (this.suspects.size >= MAX_SUSPECTS) this.suspects.delete(this.suspects.keys().next().value as string);
    this.suspects.set(address, Date.now() + this.security.authFailureWindowMs);
  }

  private key(address: string): string {
    return `authfail:${address}`;
  }

  private async tooMany(key: string): Promise<AppError> {
    const ttlMs = await this.store.ttl(key);
    const retryAfter = Math.max(1, Math.ceil((ttlMs > 0 ? ttlMs : this.security.authFailureWindowMs) / 1000));
    return new AppError(
      ErrorCode.RATE_LIMITED,
      'Too many failed authentication attempts from this address; retry later',
      undefined,
      retryAfter,
    );
  }
}
