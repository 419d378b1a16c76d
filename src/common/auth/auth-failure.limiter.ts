import { Inject, Injectable } from '@nestjs/common';
import type { SecurityConfig } from '../../config/config.types';
import { StateStore } from '../../infra/store/state-store';
import { AppError, ErrorCode } from '../errors';
import { SECURITY_CONFIG } from './auth.tokens';

/**
 * Budget of failed authentications per client address, so API keys cannot be guessed at full speed.
 * Fixed window in the state store (shared by replicas). Once an address is over budget every request
 * from it is refused before its key is compared: answering a correct key normally would turn the 429s
 * into an oracle that still confirms a guess.
 */
@Injectable()
export class AuthFailureLimiter {
  constructor(
    private readonly store: StateStore,
    @Inject(SECURITY_CONFIG) private readonly security: SecurityConfig,
  ) {}

  /** Throws 429 while the address has used up its budget. */
  async assertNotBlocked(address: string): Promise<void> {
    const key = this.key(address);
    const failures = (await this.store.get<number>(key)) ?? 0;
    if (failures >= this.security.authFailureMaxAttempts) throw await this.tooMany(key);
  }

  /** Counts one failure; returns the 429 to throw when this failure exhausted the budget, else null. */
  async recordFailure(address: string): Promise<AppError | null> {
    const key = this.key(address);
    const failures = await this.store.increment(key, 1, this.security.authFailureWindowMs);
    return failures > this.security.authFailureMaxAttempts ? this.tooMany(key) : null;
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
