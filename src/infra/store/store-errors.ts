import { AppError, ErrorCode, isAppError } from '../../common/errors';

/**
 * Turns a driver failure into an AppError. Replies Redis rejected (wrong type, bad argument) are
 * our bugs, so INTERNAL_ERROR; everything else (refused, closed, timed out, HTTP failure) means
 * the store is unreachable, which the API reports as 503 and readiness as not ready.
 */
export function toStoreError(err: unknown, operation: string): AppError {
  if (isAppError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isRedisReplyError(message)) {
    return new AppError(ErrorCode.INTERNAL_ERROR, `State store rejected ${operation}`, undefined, undefined, {
      cause: err,
    });
  }
  // The driver's message (addresses, ports, URLs of the store) stays in the cause, which is logged, never returned.
  return new AppError(
    ErrorCode.STORE_UNAVAILABLE,
    `State store unavailable during ${operation}; retry shortly`,
    undefined,
    1,
    {
      cause: err,
    },
  );
}

function isRedisReplyError(message: string): boolean {
  // Upstash prefixes a pipeline error with "Command N [ cmd ] failed: "; the reply follows it.
  const reply = message.replace(/^Command \d+ \[ [^\]]* \] failed: /, '');
  return /^(ERR|WRONGTYPE|NOSCRIPT|EXECABORT) /.test(reply);
}

/** Runs one adapter operation and classifies whatever it throws. */
export async function storeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toStoreError(err, operation);
  }
}
