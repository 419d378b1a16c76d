import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OperationsConfig } from '../../config/config.types';

/**
 * Content security policy for everything this service serves: JSON, Swagger UI at /docs and a static
 * dashboard at /. Scripts only from this origin (both load external .js files, never inline code);
 * Swagger UI's own page carries an inline <style> block and data: URI icons, hence those two allowances.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
};

/** Request headers a browser client may send cross-origin, and response headers it may read. */
const CORS_ALLOWED_HEADERS = [
  'Content-Type',
  'Authorization',
  'X-API-Key',
  'X-Request-ID',
  'Idempotency-Key',
];
const CORS_EXPOSED_HEADERS = [
  'X-Request-ID',
  'Retry-After',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
];

/**
 * helmet's headers for this policy. None of them depends on the request (no CSP nonces), so they are
 * computed once here instead of by running helmet on every request.
 */
export function buildSecurityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    // Lower case, as Fastify stores header names: setting them then costs no conversion per request.
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: () => undefined,
  };
  helmet({ contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY } })(
    {} as IncomingMessage,
    collector as unknown as ServerResponse,
    () => undefined,
  );
  return headers;
}

/** Security headers on every response, and CORS for the configured origins only (none by default). */
export function registerSecurityHeaders(app: NestFastifyApplication, ops: OperationsConfig): void {
  const headers = buildSecurityHeaders();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (_request, reply, done) => {
      void reply.headers(headers);
      done();
    });
  if (ops.corsOrigins.length === 0) return;
  app.enableCors({
    origin: ops.corsOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
}
