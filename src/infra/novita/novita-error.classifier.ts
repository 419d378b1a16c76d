import { TaskCancelledError, isBrokenCircuitError, isBulkheadRejectedError } from 'cockatiel';
import { AppError, ErrorCode } from '../../common/errors';
import { ABORTED, NovitaHttpError } from './novita-http';
import { WireErrorBody } from './novita-wire.types';

/**
 * Turns whatever a Novita call threw (NovitaHttpError, cockatiel's policy errors, anything else) into an
 * AppError with a classified code, and answers the questions the resilience policies ask about a raw
 * error (retry it? count it against the breaker?). Kept free of I/O so every rule is unit-tested.
 */

/** Socket-level codes that prove no byte of the request reached Novita (connection never opened). */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export interface ClassifyContext {
  /** Our name for the call, e.g. "getInstance"; goes into details. */
  operation?: string;
  /** Seconds until an open breaker lets a trial call through (its half-open delay); the caller's Retry-After. */
  breakerRetryAfterSeconds?: number;
}

/** Retry-After for a Novita 429 that named none: long enough not to hammer a rate-limited upstream. */
export const DEFAULT_UPSTREAM_RETRY_AFTER_SECONDS = 5;

const isHttpError = (err: unknown): err is NovitaHttpError => err instanceof NovitaHttpError;

function bodyOf(err: NovitaHttpError): WireErrorBody {
  const data = err.response?.data;
  if (data && typeof data === 'object') return data as WireErrorBody;
  // A plain-text body (a proxy page, say) is kept as the message.
  if (typeof data === 'string' && data.trim() !== '') return { message: data.slice(0, 500) };
  return {};
}

/** Retry-After is seconds or an HTTP date; returns milliseconds, or undefined when absent or unreadable. */
export function parseRetryAfterMs(header: unknown, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value === 'number') return value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // HTTP-dates carry day and month names; Date.parse would also read "-1" or "1." as years.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function retryAfterMsOf(err: unknown): number | undefined {
  if (!isHttpError(err) || err.response?.status !== 429) return undefined;
  return parseRetryAfterMs(err.response.headers?.['retry-after']);
}

/** A failure before any HTTP response: refused, reset, DNS, socket timeout. Our own aborts are timeouts, not this. */
function isNetworkError(err: unknown): boolean {
  return isHttpError(err) && !err.response && err.code !== ABORTED;
}

/** True when the request cannot have reached Novita, so even a create may be sent again. */
export function isNotConnectedError(err: unknown): boolean {
  return isNetworkError(err) && NOT_CONNECTED_CODES.has((err as NovitaHttpError).code ?? '');
}

/**
 * cockatiel 3.2.1's own isTaskCancelledError tests for the bulkhead's marker property and so never
 * matches a timeout; check the class (and its marker, in case two copies of cockatiel are loaded).
 */
function isTaskCancelled(err: unknown): boolean {
  return err instanceof TaskCancelledError || (err instanceof Error && 'isTaskCancelledError' in err);
}

function isTimeout(err: unknown): boolean {
  if (isTaskCancelled(err)) return true;
  if (!isHttpError(err) || err.response) return false;
  // ABORTED: the request aborted by the timeout's AbortSignal; ECONNABORTED/ETIMEDOUT: socket timeouts.
  return err.code === ABORTED || err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT';
}

function statusOf(err: unknown): number | undefined {
  return isHttpError(err) ? err.response?.status : undefined;
}

/**
 * Should an idempotent call be tried again after this error? Network errors, timeouts, 429 and 5xx.
 * A 429 whose Retry-After exceeds `retryAfterCapMs` is not retried: waiting less than Novita asked
 * would only earn another 429, and waiting longer would hold the caller too long; the caller gets
 * UPSTREAM_RATE_LIMITED (503) with the server's Retry-After instead.
 */
export function isRetryableError(err: unknown, retryAfterCapMs: number): boolean {
  if (isTimeout(err) || isNetworkError(err)) return true;
  const status = statusOf(err);
  if (status === 429) return (retryAfterMsOf(err) ?? 0) <= retryAfterCapMs;
  return status !== undefined && status >= 500;
}

/** What counts against the circuit breaker: Novita unreachable, slow or failing. Never a 4xx (our request's fault). */
export function isBreakerFailure(err: unknown): boolean {
  if (isTimeout(err) || isNetworkError(err)) return true;
  const status = statusOf(err);
  return status !== undefined && status >= 500;
}

function textOf(body: WireErrorBody): string {
  return [body.reason, typeof body.code === 'string' ? body.code : undefined, body.message, body.error]
    .filter((s): s is string => typeof s === 'string')
    .join(' ');
}

/** Details for the AppError: Novita's own words plus our context. Never headers or config (the API key lives there). */
function detailsOf(err: NovitaHttpError, ctx: ClassifyContext): Record<string, unknown> {
  const body = bodyOf(err);
  const details: Record<string, unknown> = { operation: ctx.operation, upstreamStatus: err.response?.status };
  if (body.reason !== undefined) details.reason = body.reason;
  if (body.code !== undefined) details.novitaCode = body.code;
  if (body.message !== undefined) details.novitaMessage = body.message;
  if (body.error !== undefined) details.novitaError = body.error;
  if (!err.response && err.code) details.networkCode = err.code;
  return details;
}

/** A cause that keeps the diagnosis in a plain Error: nothing of the exchange (its body included) rides along. */
function safeCause(err: unknown): Error | undefined {
  if (isHttpError(err)) return new Error(`${err.code ?? 'HTTP'}: ${err.message}`);
  return err instanceof Error ? err : undefined;
}

export function classifyResponse(err: NovitaHttpError, ctx: ClassifyContext = {}): AppError {
  const status = err.response?.status ?? 0;
  const body = bodyOf(err);
  const text = textOf(body);
  const details = detailsOf(err, ctx);
  const upstream = body.message ? `: ${body.message}` : '';
  const make = (code: ErrorCode, message: string, retryAfterSeconds?: number) =>
    new AppError(code, message, details, retryAfterSeconds, { cause: safeCause(err) });

  if (status === 401 || status === 403) {
    return make(ErrorCode.UNAUTHORIZED_UPSTREAM, `Novita rejected our credentials (HTTP ${status})`);
  }
  if (status === 429) {
    const ms = retryAfterMsOf(err);
    const seconds =
      ms === undefined ? DEFAULT_UPSTREAM_RETRY_AFTER_SECONDS : Math.max(1, Math.ceil(ms / 1000));
    return make(ErrorCode.UPSTREAM_RATE_LIMITED, `Novita rate limit reached${upstream}`, seconds);
  }
  if (status >= 500) {
    return make(ErrorCode.UPSTREAM_UNAVAILABLE, `Novita failed with HTTP ${status}${upstream}`);
  }
  // Covers MIGRATE_INSUFFICIENT_RESOURCE too; [T] also finds it inside `message`.
  if (/INSUFFICIENT_RESOURCE/i.test(text)) {
    return make(ErrorCode.INSUFFICIENT_RESOURCES, `Novita has no capacity for this request${upstream}`);
  }
  // Novita often reports a missing resource as a 400, sometimes with the typo "not fount".
  if (status === 404 || /not[\s_]+foun[dt]/i.test(text)) {
    return make(ErrorCode.NOT_FOUND, `Novita resource not found${upstream}`);
  }
  if (/invalid state change/i.test(text)) {
    return make(
      ErrorCode.INVALID_STATE,
      `Novita refused the action in the instance's current state${upstream}`,
    );
  }
  return make(ErrorCode.UPSTREAM_BAD_REQUEST, `Novita rejected the request (HTTP ${status})${upstream}`);
}

export function classifyNovitaError(err: unknown, ctx: ClassifyContext = {}): AppError {
  if (err instanceof AppError) return err;
  const details = { operation: ctx.operation };
  if (isBrokenCircuitError(err)) {
    return new AppError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      'Novita circuit breaker is open; call not attempted',
      {
        ...details,
        circuit: 'open',
      },
      ctx.breakerRetryAfterSeconds ?? DEFAULT_UPSTREAM_RETRY_AFTER_SECONDS,
    );
  }
  if (isBulkheadRejectedError(err)) {
    return new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'Too many Novita calls queued', details);
  }
  if (isTimeout(err)) {
    return new AppError(ErrorCode.UPSTREAM_TIMEOUT, 'Novita did not answer in time', details, undefined, {
      cause: safeCause(err),
    });
  }
  if (isHttpError(err)) {
    if (err.response) return classifyResponse(err, ctx);
    return new AppError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `Novita unreachable (${err.code ?? 'network error'})`,
      { ...details, networkCode: err.code },
      undefined,
      { cause: safeCause(err) },
    );
  }
  return new AppError(ErrorCode.INTERNAL_ERROR, 'Unexpected failure calling Novita', details, undefined, {
    cause: safeCause(err),
  });
}
