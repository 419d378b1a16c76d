import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';

/**
 * A route's answer computed from memory, or undefined when it needs waiting for something (a store
 * read, a Novita call); then Nest's handler answers as usual. Must have no effect besides counting.
 */
export type InlineAnswer = (request: FastifyRequest) => unknown;

export interface InlineRoute {
  method: 'GET';
  /** The route's template as Nest registers it, e.g. /api/instances/:instanceId. */
  url: string;
  /** The Nest controller class and method that own the route: their guards' rules apply. */
  controller: object;
  handler: object;
  answer: InlineAnswer;
}

/**
 * Whether the route's guards would let this request through without waiting, and their side of
 * admitting it (spending a rate-limit hit, setting its headers). False means "let the guards decide".
 * Asked only once the answer is known, and never for a request that is then passed on to Nest.
 */
export interface InlineAdmission {
  mayEnter(request: FastifyRequest): boolean;
  admit(request: FastifyRequest, reply: FastifyReply, route: InlineRoute): boolean;
}

/**
 * Serves some read routes before Nest's pipeline when the answer is in memory: the probe
 * /health/live and a cached instance read. Each request through Nest's router, guards, pipes and
 * handler creates dozens of promises, and on Node 20 every promise pays for the request log
 * context (AsyncLocalStorage); an inline answer creates none. Everything Fastify does for the route
 * still happens (request id, security headers, log context, metrics), and anything the shortcut
 * cannot settle at once (a missing or invalid key, an exhausted local rate-limit budget, a stale or
 * uncached record, an error) goes to Nest's handler, which is the one that answers it.
 *
 * Must run before the routes are added (before app.init()). The app fails to start if a route given
 * here is never registered, so a renamed path cannot silently lose its shortcut.
 */
export function registerInlineAnswers(
  fastify: FastifyInstance,
  routes: InlineRoute[],
  admission: InlineAdmission,
): void {
  const pending = new Map(routes.map((r) => [`${r.method} ${r.url}`, r]));
  const attached = new Set<string>();
  fastify.addHook('onRoute', (options) => {
    const key = `${String(options.method)} ${options.url}`;
    const route = pending.get(key);
    if (!route) return;
    attached.add(key);
    const own = options.preHandler ? ([] as preHandlerHookHandler[]).concat(options.preHandler) : [];
    options.preHandler = [...own, inlineHandler(route, admission) as preHandlerHookHandler];
  });
  fastify.addHook('onReady', (done) => {
    const missing = [...pending.keys()].filter((key) => !attached.has(key));
    done(
      missing.length
        ? new Error(`inline answers for routes that do not exist: ${missing.join(', ')}`)
        : undefined,
    );
  });
}

function inlineHandler(route: InlineRoute, admission: InlineAdmission) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    let body: unknown;
    try {
      if (!admission.mayEnter(request)) return done();
      body = route.answer(request);
      if (body === undefined || !admission.admit(request, reply, route)) return done();
    } catch {
      // Nest's handler meets the same failure and answers it through the exception filter.
      return done();
    }
    // Answering from a hook ends the request here: neither the later hooks nor the handler run.
    void reply.send(body);
  };
}
