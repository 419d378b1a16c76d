import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/** What the guards' quick checks read of a request. A FastifyRequest has the same fields. */
export interface InlineRequest {
  readonly url: string;
  readonly ip: string;
  readonly headers: IncomingHttpHeaders;
}

export interface InlineRoute {
  /**
   * The route's template as Nest registers it: a fixed path (/health/live) or a prefix ending in one
   * parameter (/api/instances/:instanceId).
   */
  url: string;
  /** The Nest controller class and method that own the route: their guards' rules apply. */
  controller: object;
  handler: object;
  /**
   * The answer from memory as JSON text (what Nest's handler would return, serialized), or undefined
   * when it needs waiting for something (a store read, a Novita call) or the parameter is one Nest's
   * pipes would refuse. Must have no effect besides counting.
   */
  json(param: string | undefined): string | undefined;
}

/**
 * Whether the route's guards would let this request through without waiting, and their side of
 * admitting it. admit spends a rate-limit hit and returns the headers the guard would set, or
 * undefined for "let the guards decide"; it is asked only once the answer is known. Headers come as
 * a flat list of names and values, as Node's writeHead takes them.
 */
export interface InlineAdmission {
  mayEnter(request: InlineRequest): boolean;
  admit(request: InlineRequest, route: InlineRoute): readonly (string | number)[] | undefined;
}

/** What Fastify's hooks add to every answer, given to the shortcut as functions of the raw request. */
export interface InlineAnswerParts {
  /** The security headers of an API answer (computed once). */
  headers: Record<string, string>;
  /** The request id Fastify would give it (the caller's X-Request-ID when sane, else a new one). */
  requestId(req: IncomingMessage): string;
  /** The client address Fastify's request.ip gives for the same TRUST_PROXY. */
  clientAddress(req: IncomingMessage): string | undefined;
  /** True when the request needs Fastify's full path: the replica is draining, or a CORS request. */
  passOn(req: IncomingMessage): boolean;
  /** The HTTP metrics' record of an answer: route template, status, seconds. */
  record(route: string, statusCode: number, seconds: number): void;
  /** pino-http's request line, when the log level writes one. */
  logRequest?: (req: IncomingMessage, res: ServerResponse) => void;
}

interface Matched {
  route: InlineRoute;
  param: string | undefined;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers some GET routes in the HTTP server's request listener, before Fastify and Nest, when the
 * answer is in memory: the probe /health/live and a cached instance read. Everything else, and
 * anything the shortcut cannot settle at once (a missing or invalid key, an address with recent
 * failures, an exhausted local rate-limit budget, a stale or uncached record, a malformed id, a
 * query string, a body, an error), goes to Fastify's listener unchanged, and Nest answers it.
 *
 * Why not a Fastify hook: every request through Fastify runs Nest's adapter hooks, middie and this
 * service's own hooks, and on Node 20 each promise and tick it creates also pays for the request log
 * context (AsyncLocalStorage). Measured in the bench (docs/PERFORMANCE.md), that was most of the
 * cost of these two answers. What those hooks add to an answer is added here by the same functions
 * (InlineAnswerParts): request id, security headers, rate-limit headers, the request log line and
 * the HTTP metrics. The answer is written before the listener returns, so graceful shutdown has
 * nothing of it to wait for; while draining, requests go to Fastify, which asks clients to reconnect.
 *
 * Must run before the routes are added (before app.init()). The app fails to start if a route given
 * here is never registered, so a renamed path cannot silently lose its shortcut.
 */
export function registerInlineAnswers(
  fastify: FastifyInstance,
  routes: InlineRoute[],
  admission: InlineAdmission,
  parts: InlineAnswerParts,
): void {
  const match = matcher(routes);
  const registered = new Set<string>();
  fastify.addHook('onRoute', (options) => {
    const methods = ([] as string[]).concat(options.method);
    if (methods.includes('GET')) registered.add(options.url);
  });
  fastify.addHook('onReady', (done) => {
    const missing = routes.filter((r) => !registered.has(r.url)).map((r) => `GET ${r.url}`);
    done(
      missing.length
        ? new Error(`inline answers for routes that do not exist: ${missing.join(', ')}`)
        : undefined,
    );
  });

  const server = fastify.server;
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1)
    throw new Error(`expected Fastify's one request listener, found ${listeners.length}`);
  const toFastify = listeners[0];
  const fixed = Object.entries(parts.headers).flat();

  server.removeListener('request', toFastify);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const matched = req.method === 'GET' ? match(req.url ?? '') : undefined;
    if (!matched || hasBody(req) || parts.passOn(req)) return toFastify(req, res);
    const started = performance.now();
    let body: string;
    let admitted: readonly (string | number)[] | undefined;
    try {
      const request: InlineRequest = {
        url: req.url!,
        ip: parts.clientAddress(req) ?? '',
        headers: req.headers,
      };
      if (!admission.mayEnter(request)) return toFastify(req, res);
      const json = matched.route.json(matched.param);
      if (json === undefined) return toFastify(req, res);
      admitted = admission.admit(request, matched.route);
      if (!admitted) return toFastify(req, res);
      body = json;
    } catch {
      // Nest's handler meets the same failure and answers it through the exception filter.
      return toFastify(req, res);
    }
    const headers: (string | number)[] = [...fixed, 'x-request-id', parts.requestId(req)];
    for (let i = 0; i < admitted.length; i++) headers.push(admitted[i]);
    headers.push('content-type', JSON_TYPE, 'content-length', Buffer.byteLength(body));
    parts.logRequest?.(req, res);
    res.writeHead(200, headers as string[]);
    res.end(body);
    parts.record(matched.route.url, 200, (performance.now() - started) / 1000);
  });
}

/** Exact paths only: a query string, an encoded or extra segment, anything else goes to Fastify. */
function matcher(routes: InlineRoute[]): (url: string) => Matched | undefined {
  const fixed = new Map<string, InlineRoute>();
  const prefixed: { prefix: string; route: InlineRoute }[] = [];
  for (const route of routes) {
    const colon = route.url.indexOf(':');
    if (colon === -1) fixed.set(route.url, route);
    else if (route.url.endsWith('/', colon) && !route.url.includes('/', colon))
      prefixed.push({ prefix: route.url.slice(0, colon), route });
    else throw new Error(`inline answers take one trailing parameter at most: ${route.url}`);
  }
  return (url) => {
    const route = fixed.get(url);
    if (route) return { route, param: undefined };
    for (const p of prefixed) {
      if (url.length <= p.prefix.length || !url.startsWith(p.prefix)) continue;
      const param = url.slice(p.prefix.length);
      if (!param.includes('/') && !param.includes('?')) return { route: p.route, param };
    }
    return undefined;
  };
}

/** A GET with a body is rare and left to Fastify, which reads or refuses it. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
