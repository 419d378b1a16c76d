import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, ErrorCode } from '../errors';

/** Deepest object/array nesting a JSON body may have; our deepest DTO is 3 levels. */
export const MAX_JSON_DEPTH = 32;

/**
 * The nesting depth of a JSON text, counted without parsing (strings skipped), so a body nested
 * thousands deep is refused before JSON.parse and class-transformer recurse through it.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}

function badRequest(message: string): AppError {
  return new AppError(ErrorCode.VALIDATION_ERROR, message, {
    fields: [{ field: 'body', messages: [message] }],
  });
}

/**
 * Body parsing for a JSON API. An empty body is "no body" whatever Content-Type says, so clients that
 * always send `Content-Type: application/json` can call body-optional POSTs. JSON keeps Fastify's
 * parser (prototype-poisoning protection) behind a depth limit. Anything else with content is a 415.
 * The validation pipe then decides whether an absent body is acceptable and that a body is an object.
 */
export function registerBodyParsers(fastify: FastifyInstance, bodyLimit: number): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();

  const json = (
    request: FastifyRequest,
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ): void => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      return done(badRequest(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    parseJson(request, text, (err, parsed) => {
      // Includes bodies with __proto__ or constructor.prototype keys, which Fastify's parser refuses.
      if (err) return done(badRequest('Request body is not valid JSON'));
      done(null, parsed);
    });
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, json);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'string', bodyLimit }, json);

  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (request, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    const type =
      String(request.headers['content-type'] ?? '')
        .split(';')[0]
        .trim() || '(none)';
    done(
      new AppError(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `Content-Type ${type} is not supported; send application/json`,
      ),
    );
  });
}

/** Status and code for Fastify's router errors, which never reach Nest's exception filter. */
const FRAMEWORK_ERRORS: Record<string, { status: number; code: ErrorCode }> = {
  FST_ERR_BAD_URL: { status: 400, code: ErrorCode.VALIDATION_ERROR },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: ErrorCode.URI_TOO_LONG },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: ErrorCode.VALIDATION_ERROR },
};

/** Fastify's frameworkErrors hook: the router's own refusals in the one envelope. */
export function renderFrameworkError(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const known = FRAMEWORK_ERRORS[error.code ?? ''] ?? { status: 400, code: ErrorCode.VALIDATION_ERROR };
  const message =
    known.code === ErrorCode.URI_TOO_LONG ? 'A path segment is too long' : 'The request URL is malformed';
  void reply
    .code(known.status)
    .header('X-Request-ID', String(request.id))
    .send({ error: { code: known.code, message, requestId: String(request.id) } });
}

/**
 * Fastify's clientErrorHandler: requests Node's HTTP parser refuses before Fastify sees them (headers
 * over the size limit, malformed request lines), answered in the envelope with a fresh request id.
 */
export function renderClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, ErrorCode.VALIDATION_ERROR, 'Request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, ErrorCode.VALIDATION_ERROR, 'Request not received in time']
        : [400, ErrorCode.VALIDATION_ERROR, 'Malformed HTTP request'];
  const requestId = randomUUID();
  const body = JSON.stringify({ error: { code, message, requestId } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-ID: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
