import type { Params } from 'nestjs-pino';
import type { HttpLogger, Options as HttpLoggerOptions } from 'pino-http';
import type { IncomingMessage } from 'node:http';
import type { AppConfig, OperationsConfig } from '../../config/config.types';
import { REQUEST_ID_HEADER } from '../http/request-id';
import { redactQueryObject, redactUrl } from './redact-url';
import { TrustProxy, clientAddressResolver } from '../http/client-address';

interface SerializedRequest {
  url?: string;
  query?: unknown;
  remoteAddress?: string;
  raw?: IncomingMessage;
  [key: string]: unknown;
}

/**
 * Query strings may carry keys (?api_key=...): redacted on every logged request. remoteAddress is the
 * client as TRUST_PROXY defines it, not the ingress in front of it.
 */
export function requestSerializer(trustProxy: TrustProxy) {
  const clientAddress = clientAddressResolver(trustProxy);
  return (req: SerializedRequest): SerializedRequest => {
    const out: SerializedRequest = { ...req, url: redactUrl(req.url) };
    if ('query' in req) out.query = redactQueryObject(req.query);
    const client = req.raw ? clientAddress(req.raw) : undefined;
    if (client) out.remoteAddress = client;
    return out;
  };
}

/** Paths that are never logged per request: probes poll constantly and would drown everything else. */
const QUIET_PATHS = [/^\/health(\/|$|\?)/, /^\/metrics(\?|$)/];

/** Everything that may carry a credential, wherever it appears in a log object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
];

function isQuietPath(url: string | undefined): boolean {
  return QUIET_PATHS.some((re) => re.test(url ?? ''));
}

/**
 * Where log lines go. Without Axiom: pino-pretty in development, else plain JSON on stdout (no
 * worker thread). With Axiom: both the console and @axiomhq/pino, as pino transport targets; pino
 * applies the redaction before any target sees a line, so Axiom gets exactly what the console gets.
 */
export function buildLogTransport(app: AppConfig, ops?: Pick<OperationsConfig, 'axiom'>) {
  const pretty = app.nodeEnv === 'development' && !app.demoMode ? true : app.demoMode;
  const consoleTarget = pretty
    ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } }
    : undefined;
  if (!ops?.axiom || app.logLevel === 'silent') return consoleTarget;
  return {
    targets: [
      { ...(consoleTarget ?? { target: 'pino/file', options: { destination: 1 } }), level: app.logLevel },
      {
        target: '@axiomhq/pino',
        level: app.logLevel,
        options: { token: ops.axiom.token, dataset: ops.axiom.dataset, url: ops.axiom.url },
      },
    ],
  };
}

/** pino-http's options: the root logger, its redaction and serializers, and what it logs per request. */
export function buildHttpLoggerOptions(
  app: AppConfig,
  ops?: Pick<OperationsConfig, 'axiom'>,
  trustProxy: TrustProxy = false,
): HttpLoggerOptions {
  return {
    level: app.logLevel,
    // Fastify's genReqId already chose the id and wrote it onto the raw headers (see request-id.ts).
    genReqId: (req: IncomingMessage) => String(req.headers[REQUEST_ID_HEADER] ?? ''),
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    autoLogging: {
      ignore: (req: IncomingMessage) => isQuietPath(req.url),
    },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: { req: requestSerializer(trustProxy) },
    transport: buildLogTransport(app, ops),
  };
}

/**
 * nestjs-pino only lends its Logger and PinoLogger (over the given root logger): it installs no
 * middleware, because the per-request part runs as a Fastify hook (see request-logging.ts).
 */
export function buildLoggerOptions(httpLogger: HttpLogger): Params {
  return { pinoHttp: { logger: httpLogger.logger }, useExisting: true, forRoutes: [] };
}
