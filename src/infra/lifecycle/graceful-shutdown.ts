import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../../common/errors';
import { ShutdownState } from './shutdown-state';

export interface ShutdownOptions {
  /** Readiness is 503 but the listener keeps serving this long after the signal. */
  delayMs: number;
  /** Whole budget from the signal to process exit. */
  timeoutMs: number;
}

export interface ShutdownHooks {
  exit(code: number): void;
  signals: NodeJS.Signals[];
}

/** How long answers sent at the drain deadline get to go out before every connection is closed. */
const STRAGGLER_GRACE_MS = 250;
/** In-flight replies held before the first sweep for ones whose client went away. */
const MIN_SWEEP_SIZE = 1024;

/**
 * Time kept at the end of the budget for what follows the HTTP drain (background passes ending,
 * leases released, store closed): requests still running when it starts get a 503.
 */
export function drainReserveMs(opts: ShutdownOptions): number {
  return Math.min(2000, Math.floor((opts.timeoutMs - opts.delayMs) / 2));
}

/**
 * Kubernetes-friendly shutdown, replacing Nest's enableShutdownHooks (which closes the listener at
 * once, so readiness probes see "connection refused" and in-flight requests can hold the pod):
 *  1. on SIGTERM readiness answers 503 while everything else is still served for delayMs, so
 *     endpoints controllers and load balancers stop routing here before the listener goes;
 *  2. the listener closes and in-flight requests drain; those still running when the reserve
 *     starts are answered 503 SHUTTING_DOWN instead of losing their socket;
 *  3. Nest's shutdown hooks run: background loops finish their pass and release their leases,
 *     the store closes; then the process exits. If anything hangs, it exits at timeoutMs anyway.
 * Must be called before listen(): it adds Fastify hooks.
 */
export function installGracefulShutdown(
  app: NestFastifyApplication,
  opts: ShutdownOptions,
  hooks: ShutdownHooks = { exit: (code) => process.exit(code), signals: ['SIGTERM', 'SIGINT'] },
): { shutdown: (signal: string) => Promise<void> } {
  const logger = new Logger('Shutdown');
  const state = app.get(ShutdownState);
  const fastify = app.getHttpAdapter().getInstance();
  // Replies not yet finished. Removed by onResponse (Fastify already listens for the end of each
  // response); one whose client went away may never get there, so finished ones are also swept:
  // whenever the set has doubled since the last sweep (amortised, no timer), and before shutdown
  // reads it.
  const inFlight = new Set<FastifyReply>();
  let sweepAt = MIN_SWEEP_SIZE;
  const sweepFinished = (): void => {
    for (const reply of inFlight)
      if (reply.raw.destroyed || reply.raw.writableFinished) inFlight.delete(reply);
    sweepAt = Math.max(MIN_SWEEP_SIZE, inFlight.size * 2);
  };

  fastify.addHook('onRequest', (_request, reply, done) => {
    inFlight.add(reply);
    if (inFlight.size > sweepAt) sweepFinished();
    // While draining, ask keep-alive clients to reconnect: their next connection goes to another replica.
    if (state.draining) void reply.header('Connection', 'close');
    done();
  });
  fastify.addHook('onResponse', (_request, reply, done) => {
    inFlight.delete(reply);
    done();
  });

  let started: Promise<void> | null = null;
  const shutdown = (signal: string): Promise<void> => {
    started ??= run(signal);
    return started;
  };

  async function run(signal: string): Promise<void> {
    const t0 = Date.now();
    const hardStop = setTimeout(() => {
      logger.error({ msg: 'Shutdown timed out; exiting now', timeoutMs: opts.timeoutMs });
      hooks.exit(1);
    }, opts.timeoutMs);
    state.begin();
    sweepFinished();
    // Answers still to come on connections opened before the signal carry the same request.
    for (const reply of inFlight) if (!reply.raw.headersSent) void reply.header('Connection', 'close');
    logger.log({
      msg: 'Shutdown step 1/3: readiness now 503; still serving during the delay',
      signal,
      delayMs: opts.delayMs,
      timeoutMs: opts.timeoutMs,
    });
    await sleep(opts.delayMs);

    const reserveAt = opts.timeoutMs - drainReserveMs(opts);
    sweepFinished();
    logger.log({
      msg: 'Shutdown step 2/3: closing the listener and draining in-flight requests',
      inFlight: inFlight.size,
      drainDeadlineMs: reserveAt,
    });
    const cutOff = setTimeout(
      () => {
        answerStragglers();
        // Give those answers a moment to go out, then end every connection still open: a client that
        // stalled mid-request or stopped reading an answer would otherwise hold the listener (and the
        // background work and lease release after it) until the hard stop.
        dropConnections = setTimeout(() => closeAllConnections(), STRAGGLER_GRACE_MS);
      },
      Math.max(0, reserveAt - (Date.now() - t0)),
    );
    let dropConnections: NodeJS.Timeout | undefined;
    try {
      await app.close();
      logger.log({
        msg: 'Shutdown step 3/3: done; background work stopped and leases released',
        tookMs: Date.now() - t0,
      });
      clearTimeout(cutOff);
      clearTimeout(dropConnections);
      clearTimeout(hardStop);
      hooks.exit(0);
    } catch (err) {
      logger.error({ msg: 'Shutdown failed', err });
      clearTimeout(cutOff);
      clearTimeout(dropConnections);
      clearTimeout(hardStop);
      hooks.exit(1);
    }
  }

  function closeAllConnections(): void {
    sweepFinished();
    const open = inFlight.size;
    fastify.server.closeAllConnections();
    if (open > 0)
      logger.warn({
        msg: 'Closed the connections still open after the drain deadline',
        requestsInFlight: open,
      });
  }

  function answerStragglers(): void {
    let answered = 0;
    for (const reply of inFlight) {
      if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) continue;
      answered++;
      void reply
        .code(503)
        .header('Connection', 'close')
        .header('Retry-After', '1')
        .send({
          error: {
            code: ErrorCode.SHUTTING_DOWN,
            message: 'The service shut down before this request finished; retry it',
            requestId: reply.request.id,
          },
        });
    }
    if (answered > 0)
      logger.warn({ msg: 'Drain deadline reached: answered 503 to unfinished requests', answered });
  }

  for (const signal of hooks.signals) {
    process.once(signal, () => {
      // A second signal (an impatient Ctrl+C) means now.
      process.once(signal, () => hooks.exit(1));
      void shutdown(signal);
    });
  }
  return { shutdown };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
