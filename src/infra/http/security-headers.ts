import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet, { HelmetOptions } from 'helmet';
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
 * What an API answer needs (the OWASP REST Security Cheat Sheet's set): no cache may keep it,
 * nothing may load or frame it, the browser must not sniff its type, HTTPS only; with no referrer
 * and the cross-origin isolation headers.
 * helmet's other headers (DNS prefetch, IE download options, Flash/PDF cross-domain policies, the
 * legacy XSS auditor, origin-keyed agent clusters) only act on a document a browser renders.
 */
export const API_CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
};

/** Paths whose answers a browser renders as a page: the dashboard at / with its /ui/ assets, and Swagger UI. */
export function isPagePath(url: string): boolean {
  if (url === '/' || url.startsWith('/?') || url.startsWith('/ui/')) return true;
  return /^\/docs(-json)?([/?]|$)/.test(url);
}

/**
 * helmet's headers for this policy: `page` for what a browser renders (the dashboard, Swagger UI),
 * `api` for everything else. None depends on the request (no CSP nonces), so they are computed once
 * here instead of by running helmet on every request.
 */
export function buildSecurityHeaders(kind: 'page' | 'api' = 'page'): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    // Lower case, as Fastify stores header names: setting them then costs no conversion per request.
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: () => undefined,
  };
  const options: HelmetOptions =
    kind === 'page'
      ? { contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY } }
      : {
          contentSecurityPolicy: { useDefaults: false, directives: API_CONTENT_SECURITY_POLICY },
          xFrameOptions: { action: 'deny' },
          originAgentCluster: false,
          xDnsPrefetchControl: false,
          xDownloadOptions: false,
          xPermittedCrossDomainPolicies: false,
          xXssProtection: false,
        };
  helmet(options)({} as IncomingMessage, collector as unknown as ServerResponse, () => undefined);
  // Instance data, keys' budgets and metrics are for the caller alone and change at any moment.
  if (kind === 'api') headers['cache-control'] = 'no-store';
  return headers;
}

/**
 * Security headers on every response (a page's or an API answer's), and CORS for the configured
 * origins only (none by default).
 */
export function registerSecurityHeaders(app: NestFastifyApplication, ops: OperationsConfig): void {
  const page = buildSecurityHeaders('page');
  const api = buildSecurityHeaders('api');
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.headers(isPagePath(request.url) ? page : api);
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
