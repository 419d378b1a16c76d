import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '../../common/errors';

/** Lock primitives an adapter provides; runWithMutex adds polling, timeout and release. */
export interface MutexBackend {
  /** Takes the lock when free; the lock disappears by itself after ttlMs. */
  tryLock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Frees the lock only if it still holds token. */
  unlock(key: string, token: string): Promise<void>;
}

export interface MutexOptions {
  ttlMs?: number;
  waitMs?: number;
}

export const DEFAULT_MUTEX_TTL_MS = 30_000;
export const DEFAULT_MUTEX_WAIT_MS = 10_000;
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

const logger = new Logger('StateStoreMutex');

export async function runWithMutex<T>(
  backend: MutexBackend,
  key: string,
  fn: () => Promise<T>,
  opts: MutexOptions = {},
): Promise<T> {
  const ttlMs = opts.ttlMs ?? DEFAULT_MUTEX_TTL_MS;
  const waitMs = opts.waitMs ?? DEFAULT_MUTEX_WAIT_MS;
  const token = randomUUID();
  const deadline = Date.now() + waitMs;
  let pollMs = FIRST_POLL_MS;

  while (!(await backend.tryLock(key, token, ttlMs))) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new AppError(ErrorCode.OPERATION_IN_PROGRESS, `Another operation holds the lock for ${key}`, {
        key,
        waitedMs: waitMs,
      });
    }
    // Jitter keeps replicas that started waiting together from polling in lockstep.
    const sleepMs = Math.min(remaining, pollMs * (0.5 + Math.random() / 2));
    await new Promise((resolve) => setTimeout(resolve, sleepMs));
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }

  try {
    return await fn();
  } finally {
    // A failed unlock must not replace fn's outcome; the lock then expires through its TTL.
    await backend.unlock(key, token).catch((err: unknown) => {
      logger.warn({ key, err }, 'Could not release mutex; it will expire through its TTL');
    });
  }
}
