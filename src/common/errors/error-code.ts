/** Every failure the service reports carries one of these codes; the exception filter maps them to HTTP. */
export enum ErrorCode {
  VALIDATION_ERROR = 'VALIDATION_ERROR',
  UNAUTHORIZED = 'UNAUTHORIZED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  CONFLICT = 'CONFLICT',
  NAME_TAKEN = 'NAME_TAKEN',
  INVALID_STATE = 'INVALID_STATE',
  OPERATION_IN_PROGRESS = 'OPERATION_IN_PROGRESS',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  URI_TOO_LONG = 'URI_TOO_LONG',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED = 'RATE_LIMITED',
  INSUFFICIENT_RESOURCES = 'INSUFFICIENT_RESOURCES',
  /** Novita rejected a request we built (a 400 we cannot classify further). */
  UPSTREAM_BAD_REQUEST = 'UPSTREAM_BAD_REQUEST',
  /** Novita rejected our own credentials: the caller did nothing wrong. */
  UNAUTHORIZED_UPSTREAM = 'UNAUTHORIZED_UPSTREAM',
  UPSTREAM_UNAVAILABLE = 'UPSTREAM_UNAVAILABLE',
  /** Novita answered 429: our callers did not exceed our limit, so this is not their 429. */
  UPSTREAM_RATE_LIMITED = 'UPSTREAM_RATE_LIMITED',
  UPSTREAM_TIMEOUT = 'UPSTREAM_TIMEOUT',
  STORE_UNAVAILABLE = 'STORE_UNAVAILABLE',
  FEATURE_DISABLED = 'FEATURE_DISABLED',
  /** SIGTERM received: this replica finishes what it has and takes nothing new. */
  SHUTTING_DOWN = 'SHUTTING_DOWN',
  INTERNAL_ERROR = 'INTERNAL_ERROR',
}

/** The one table from error code to HTTP status. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  [ErrorCode.VALIDATION_ERROR]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.ROUTE_NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.NAME_TAKEN]: 409,
  [ErrorCode.INVALID_STATE]: 409,
  [ErrorCode.OPERATION_IN_PROGRESS]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.URI_TOO_LONG]: 414,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.INSUFFICIENT_RESOURCES]: 503,
  [ErrorCode.UPSTREAM_BAD_REQUEST]: 502,
  [ErrorCode.UNAUTHORIZED_UPSTREAM]: 502,
  [ErrorCode.UPSTREAM_UNAVAILABLE]: 503,
  [ErrorCode.UPSTREAM_RATE_LIMITED]: 503,
  [ErrorCode.UPSTREAM_TIMEOUT]: 504,
  [ErrorCode.STORE_UNAVAILABLE]: 503,
  [ErrorCode.FEATURE_DISABLED]: 404,
  [ErrorCode.SHUTTING_DOWN]: 503,
  [ErrorCode.INTERNAL_ERROR]: 500,
};
