import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
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

/** Security headers on every response, and CORS for the configured origins only (none by default). */
export async function registerSecurityHeaders(
  app: NestFastifyApplication,
  ops: OperationsConfig,
): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
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
