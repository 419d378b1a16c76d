import fastify, { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { Writable } from 'node:stream';
import { pinoHttp } from 'pino-http';
import { genRequestId } from '../http/request-id';
import { buildHttpLoggerOptions } from './logger.options';
import { registerRequestLogging } from './request-logging';
import type { AppConfig } from '../../config/config.types';

/** A service-like Fastify app whose handler logs one warning through nestjs-pino. */
async function appLoggingAt(level: string): Promise<{ app: FastifyInstance; lines: () => any[] }> {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const { transport: _none, ...options } = buildHttpLoggerOptions({ logLevel: level } as AppConfig);
  const httpLogger = pinoHttp(options, sink);
  const logger = new PinoLogger({ pinoHttp: { logger: httpLogger.logger } });
  const app = fastify({ genReqId: genRequestId });
  registerRequestLogging(app, httpLogger);
  app.get('/api/things', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    logger.warn('something odd');
    return { ok: true };
  });
  app.get('/health/live', async () => ({ status: 'ok' }));
  await app.ready();
  return { app, lines: () => out.map((l) => JSON.parse(l)) };
}

describe('request logging', () => {
  it('at warn, binds the request id to lines logged while serving, and logs no request lines', async () => {
    const { app, lines } = await appLoggingAt('warn');
    await app.inject({ url: '/api/things', headers: { 'x-request-id': 'warn-1', 'x-api-key': 'k' } });
    await app.inject({ url: '/api/things', headers: { 'x-request-id': 'warn-2' } });
    expect(lines().map((l) => [l.msg, l.requestId])).toEqual([
      ['something odd', 'warn-1'],
      ['something odd', 'warn-2'],
    ]);
    await app.close();
  });

  it('at info, also logs each non-probe request once, redacted, with its id', async () => {
    const { app, lines } = await appLoggingAt('info');
    await app.inject({
      url: '/api/things?token=SECRET',
      headers: { 'x-request-id': 'info-1', 'x-api-key': 'KEY' },
    });
    await app.inject({ url: '/health/live', headers: { 'x-request-id': 'probe' } });
    const logged = lines();
    expect(logged.map((l) => [l.msg, l.requestId])).toEqual([
      ['something odd', 'info-1'],
      ['request completed', 'info-1'],
    ]);
    expect(logged[1].req.url).toBe('/api/things?token=[Redacted]');
    expect(logged[1].req.headers['x-api-key']).toBe('[Redacted]');
    expect(JSON.stringify(logged)).not.toMatch(/SECRET|"KEY"/);
    await app.close();
  });
});
