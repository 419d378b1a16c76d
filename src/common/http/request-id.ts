import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Used as Fastify's genReqId: accept the caller's X-Request-ID when it is sane, else mint one.
 * The chosen id is written back onto the raw headers so pino-http (which sees the raw request)
 * logs the very same id on every line of the request.
 */
export function genRequestId(req: { headers: IncomingHttpHeaders }): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  if (value && REQUEST_ID_PATTERN.test(value)) return value;
  const id = randomUUID();
  req.headers[REQUEST_ID_HEADER] = id;
  return id;
}
