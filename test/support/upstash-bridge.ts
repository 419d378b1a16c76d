import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import Redis, { ReplyError } from 'ioredis';

/**
 * A small server speaking the Upstash Redis REST protocol, forwarding every command to a real
 * redis-server. Lets the Upstash adapter run the same contract tests without Upstash itself.
 *
 * POST /            body ["SET","k","v"]            -> {"result": ...} or 400 {"error": ...}
 * POST /pipeline    body [["SET","k","v"],["GET","k"]] -> [{"result": ...} | {"error": ...}, ...]
 * POST /multi-exec  same body, run as MULTI/EXEC     -> same shape, or 400 when the transaction aborts
 * Authorization: Bearer <token> is required (401 otherwise). With "Upstash-Encoding: base64" (the
 * SDK's default) every string in a result is base64-encoded, as Upstash does.
 */
export interface UpstashBridgeHandle {
  readonly url: string;
  readonly token: string;
  /** HTTP requests answered so far: one per command, pipeline or transaction. */
  readonly requestCount: number;
  close(): Promise<void>;
}

type Reply = { result: unknown } | { error: string };

export async function startUpstashBridge(opts: {
  redisUrl: string;
  token?: string;
}): Promise<UpstashBridgeHandle> {
  const token = opts.token ?? 'bridge-test-token';
  const redis = new Redis(opts.redisUrl, {
    lazyConnect: true,
    // While redis-server is down the bridge must stay up and answer with errors, quickly.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
  });
  redis.on('error', () => undefined);
  await redis.connect();

  let requestCount = 0;
  const server = createServer((req, res) => {
    requestCount++;
    handle(redis, token, req, res).catch((err: unknown) => {
      send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('bridge has no address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    token,
    get requestCount() {
      return requestCount;
    },
    close: () => closeAll(server, redis),
  };
}

async function handle(redis: Redis, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'Unauthorized' });
  if (req.method !== 'POST') return send(res, 405, { error: 'Method not allowed' });

  const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
  const encode = (value: unknown): unknown => (base64 ? encodeBase64(value) : value);
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return send(res, 400, { error: 'ERR failed to parse request body as JSON' });
  }

  const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
  if (path === '/') {
    if (!isCommand(body)) return send(res, 400, { error: 'ERR expected a command array' });
    const [name, ...args] = body.map(String);
    try {
      return send(res, 200, { result: encode(await redis.call(name, ...args)) });
    } catch (err) {
      return send(res, err instanceof ReplyError ? 400 : 503, { error: messageOf(err) });
    }
  }
  if (path === '/pipeline' || path === '/multi-exec') {
    if (!Array.isArray(body) || body.length === 0 || !body.every(isCommand)) {
      return send(res, 400, { error: 'ERR expected an array of command arrays' });
    }
    const batch = path === '/pipeline' ? redis.pipeline() : redis.multi();
    for (const command of body) {
      const [name, ...args] = command.map(String);
      batch.call(name, ...args);
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await batch.exec();
    } catch (err) {
      return send(res, err instanceof ReplyError ? 400 : 503, { error: messageOf(err) });
    }
    if (results === null) return send(res, 400, { error: 'ERR transaction aborted' });
    const replies: Reply[] = results.map(([err, result]) =>
      err ? { error: err.message } : { result: encode(result) },
    );
    return send(res, 200, replies);
  }
  return send(res, 404, { error: `ERR unknown endpoint ${path}` });
}

function isCommand(value: unknown): value is (string | number | boolean)[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((part) => typeof part === 'string' || typeof part === 'number' || typeof part === 'boolean')
  );
}

function encodeBase64(value: unknown): unknown {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64');
  if (Array.isArray(value)) return value.map(encodeBase64);
  return value;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const json = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function closeAll(server: Server, redis: Redis): Promise<void> {
  // The SDK keeps connections alive; drop them or close() would wait for their idle timeout.
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  redis.disconnect();
}
