import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { AllConfig } from '../../config/config.types';
import { StateStore } from '../../infra/store/state-store';

export interface IdempotencyEntry {
  state: 'pending' | 'done';
  fingerprint: string;
  createdAt: number;
  /** Set as soon as the request knows which instance it is creating. */
  instanceId?: string;
  response?: { status: number; body: unknown };
  error?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export interface IdempotentResult<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/** A key's scope and raw value, as accepted from the Idempotency-Key header. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** How long a repeat waits for the first request to finish before answering 409. */
export const DEFAULT_IDEMPOTENCY_WAIT_MS = 30_000;
const POLL_MS = 100;

export const idempotencyStoreKey = (scope: string, key: string): string => `idempotency:${scope}:${key}`;

/** Canonical JSON (sorted keys, undefined dropped), so field order does not change the fingerprint. */
export function fingerprintOf(body: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
}

/**
 * Idempotency keys: the key is reserved in the store atomically (set onlyIfAbsent) before the work
 * starts, so a repeat (a client retry after a network failure, or a concurrent duplicate) can never
 * run the work a second time. Repeats wait for the first result and get it back (same status, same
 * body or same error). A failure that provably changed nothing (`release(err)` true) frees the key so a
 * retry runs again.
 */
@Injectable()
export class IdempotencyService {
  private readonly ttlMs: number;

  constructor(
    private readonly store: StateStore,
    config: ConfigService<AllConfig, true>,
  ) {
    this.ttlMs = config.get('instances', { infer: true }).idempotencyTtlHours * 3600_000;
  }

  async execute<T>(args: {
    scope: string;
    key: string;
    fingerprint: string;
    work: (
      note: (instanceId: string) => Promise<void>,
      storeKey: string,
    ) => Promise<{ status: number; body: T }>;
    release: (err: unknown) => boolean;
    /** The outcome is not known yet (a create cut off mid-call): the entry stays pending until settled. */
    defer?: (err: unknown) => boolean;
    waitMs?: number;
  }): Promise<IdempotentResult<T>> {
    if (!IDEMPOTENCY_KEY_PATTERN.test(args.key)) {
      throw new AppError(
        ErrorCode.VALIDATION_ERROR,
        'Idempotency-Key must be 1-255 printable ASCII characters',
        {
          fields: [
            {
              field: 'Idempotency-Key',
              messages: ['must be 1-255 printable ASCII characters without spaces'],
            },
          ],
        },
      );
    }
    const storeKey = idempotencyStoreKey(args.scope, args.key);
    const entry: IdempotencyEntry = {
      state: 'pending',
      fingerprint: args.fingerprint,
      createdAt: Date.now(),
    };
    const deadline = Date.now() + (args.waitMs ?? DEFAULT_IDEMPOTENCY_WAIT_MS);
    while (!(await this.store.set(storeKey, entry, { onlyIfAbsent: true, ttlMs: this.ttlMs }))) {
      const replayed = await this.replay<T>(storeKey, args.key, args.fingerprint, deadline);
      // null: the first request failed without effect and freed the key; try to reserve it ourselves.
      if (replayed) return replayed;
    }

    const note = async (instanceId: string): Promise<void> => {
      entry.instanceId = instanceId;
      await this.store.set(storeKey, entry, { ttlMs: this.ttlMs });
    };
    try {
      const result = await args.work(note, storeKey);
      await this.store.set(storeKey, { ...entry, state: 'done', response: result }, { ttlMs: this.ttlMs });
      return { ...result, replayed: false };
    } catch (err) {
      if (args.defer?.(err)) throw err;
      if (args.release(err) || !isAppError(err)) {
        await this.store.delete(storeKey);
      } else {
        const error = {
          code: err.code,
          message: err.message,
          ...(err.details ? { details: err.details } : {}),
        };
        await this.store.set(storeKey, { ...entry, state: 'done', error }, { ttlMs: this.ttlMs });
      }
      throw err;
    }
  }

  /**
   * Answers a pending key whose request was cut off, once its outcome is known (the reconciler
   * settling a create intent). Only a pending entry is completed: a finished one is never rewritten.
   */
  async settle(
    storeKey: string,
    outcome:
      | { response: { status: number; body: unknown } }
      | { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } },
  ): Promise<void> {
    const entry = await this.store.get<IdempotencyEntry>(storeKey);
    if (!entry || entry.state !== 'pending') return;
    await this.store.set(storeKey, { ...entry, state: 'done', ...outcome }, { ttlMs: this.ttlMs });
  }

  /** Frees a pending key whose request provably did nothing, so a retry runs again. */
  async release(storeKey: string): Promise<void> {
    const entry = await this.store.get<IdempotencyEntry>(storeKey);
    if (entry?.state === 'pending') await this.store.delete(storeKey);
  }

  private async replay<T>(
    storeKey: string,
    key: string,
    fingerprint: string,
    deadline: number,
  ): Promise<IdempotentResult<T> | null> {
    for (;;) {
      const entry = await this.store.get<IdempotencyEntry>(storeKey);
      if (!entry) return null;
      if (entry.fingerprint !== fingerprint) {
        throw new AppError(
          ErrorCode.CONFLICT,
          'Idempotency-Key was already used with a different request body',
          {
            idempotencyKey: key,
            reason: 'IDEMPOTENCY_KEY_REUSED',
          },
        );
      }
      if (entry.state === 'done') {
        if (entry.error)
          throw new AppError(entry.error.code, entry.error.message, {
            ...entry.error.details,
            idempotentReplay: true,
          });
        return { status: entry.response!.status, body: entry.response!.body as T, replayed: true };
      }
      if (Date.now() >= deadline) {
        throw new AppError(
          ErrorCode.OPERATION_IN_PROGRESS,
          'A request with this Idempotency-Key is still in progress',
          {
            idempotencyKey: key,
            ...(entry.instanceId ? { instanceId: entry.instanceId } : {}),
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
