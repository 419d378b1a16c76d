import type { FastifyInstance } from 'fastify';
import { Store, storage } from 'nestjs-pino/storage';
import type { Logger } from 'pino';
import type { HttpLogger } from 'pino-http';

/** The app's pino-http instance: its root logger is nestjs-pino's, its middleware runs per request. */
export const HTTP_LOGGER = Symbol('HTTP_LOGGER');

/**
 * Binds every request to its own logger, so lines logged while serving it carry its requestId
 * (nestjs-pino's Logger reads it from this async context).
 *
 * When the level logs requests (info or below), pino-http runs as before: the "request completed"
 * line with the redacted request. Otherwise it would only build child loggers and serialize the
 * request for a line that is never written, so the request's logger is made on its first use instead.
 */
export function registerRequestLogging(fastify: FastifyInstance, httpLogger: HttpLogger): void {
  const root = httpLogger.logger;
  const logged = logsRequests(httpLogger);
  fastify.addHook('onRequest', (request, reply, done) => {
    if (logged) {
      httpLogger(request.raw, reply.raw);
      storage.run(new Store((request.raw as { log?: Logger }).log ?? root), done);
    } else {
      storage.run(new LazyRequestStore(root, request.id), done);
    }
  });
}

/** Whether pino-http writes a line per request at the configured level ("request completed" is info). */
export function logsRequests(httpLogger: HttpLogger): boolean {
  return httpLogger.logger.isLevelEnabled('info');
}

/** A Store whose logger (a child of root bound to the request id) is built when first asked for. */
class LazyRequestStore implements Store {
  private built?: Logger;
  readonly responseLogger = undefined;

  constructor(
    private readonly root: Logger,
    private readonly requestId: string,
  ) {}

  get logger(): Logger {
    return (this.built ??= this.root.child({ requestId: this.requestId }));
  }

  /** PinoLogger.assign replaces it with a child carrying more fields. */
  set logger(value: Logger) {
    this.built = value;
  }
}
