import { ErrorCode, HTTP_STATUS_BY_CODE } from './error-code';

/** A failure with a classified code. Thrown by services and ports; rendered by the exception filter. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Seconds a client should wait before retrying (rendered as Retry-After). */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }

  get httpStatus(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }

  static notFound(what: string, details?: Record<string, unknown>): AppError {
    return new AppError(ErrorCode.NOT_FOUND, `${what} not found`, details);
  }

  static conflict(message: string, details?: Record<string, unknown>): AppError {
    return new AppError(ErrorCode.CONFLICT, message, details);
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
