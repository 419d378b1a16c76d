/**
 * The HTTP front: /__sim control routes, then for API routes the call log, fault injection,
 * Bearer auth and the Novita handlers. Plain node:http, no framework.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiResult, buildApiRoutes } from './sim-api-routes';
import { buildControlRoutes } from './sim-control-routes';
import { SimError } from './sim-errors';
import { API_BASE_PATH, Simulator } from './simulator';

const MAX_BODY = 1_000_000;

export class SimHttpServer {
  private readonly server: http.Server;
  private readonly api;
  private readonly control;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(
    private readonly sim: Simulator,
    private readonly apiKey: string,
    private readonly controlToken?: string,
  ) {
    this.api = buildApiRoutes(sim.state, () => sim.app.baseUrl);
    this.control = buildControlRoutes(sim);
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    // Hung requests never finish on their own; drop their sockets.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(url.searchParams.entries());
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      return send(res, 413, {
        code: 413,
        reason: 'REQUEST',
        message: 'request body too large',
        metadata: {},
      });
    }
    if (url.pathname === '/__sim' || url.pathname.startsWith('/__sim/'))
      return this.handleControl(req, res, method, url.pathname, query, raw);

    const path = url.pathname.startsWith(`${API_BASE_PATH}/`)
      ? url.pathname.slice(API_BASE_PATH.length)
      : url.pathname;
    let body: unknown = undefined;
    let badJson = false;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        badJson = true;
        body = raw;
      }
    }
    const entry = this.sim.calls.record({
      method,
      path,
      query,
      body: body ?? null,
      status: 0,
      at: this.sim.now(),
    });
    const decision = url.pathname.startsWith(`${API_BASE_PATH}/`)
      ? this.sim.faults.decide(path)
      : { kind: 'pass' as const, latencyMs: 0 };
    if (decision.kind === 'hang') return; // answered only by the client giving up (or close())
    if (decision.latencyMs > 0) await this.sleep(decision.latencyMs);
    if (res.destroyed) return;

    let result: ApiResult & { headers?: Record<string, string> };
    if (decision.kind === 'error') {
      result = {
        status: decision.error.status,
        body: decision.error.body(),
        headers: decision.error.headers,
      };
    } else {
      result = this.runApi(method, path, query, body, badJson, req.headers.authorization, url.pathname);
    }
    // Applied, but the caller never hears back (the call log shows it answered with status 0).
    if (decision.kind === 'hold') return;
    entry.status = result.status;
    send(res, result.status, result.body, result.headers);
  }

  private runApi(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    badJson: boolean,
    auth: string | undefined,
    fullPath: string,
  ): ApiResult & { headers?: Record<string, string> } {
    try {
      if (auth !== `Bearer ${this.apiKey}`)
        throw new SimError(401, 'UNAUTHORIZED', 'invalid or missing API key');
      const handler = fullPath.startsWith(`${API_BASE_PATH}/`) ? this.api[`${method} ${path}`] : undefined;
      if (!handler) throw new SimError(404, 'NOT_FOUND', `no route ${method} ${fullPath}`);
      if (badJson) throw new SimError(400, 'REQUEST', 'request body is not valid JSON');
      return { status: 200, body: handler(query, body) };
    } catch (err) {
      if (err instanceof SimError) return { status: err.status, body: err.body(), headers: err.headers };
      return {
        status: 500,
        body: { code: 500, reason: 'UNKNOWN', message: (err as Error).message, metadata: {} },
      };
    }
  }

  private handleControl(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    path: string,
    query: Record<string, string>,
    raw: string,
  ): void {
    if (this.controlToken && req.headers['x-sim-token'] !== this.controlToken) {
      return send(res, 401, { message: 'control token required (x-sim-token)' });
    }
    const handler = this.control[`${method} ${path}`];
    if (!handler) return send(res, 404, { message: `no control route ${method} ${path}` });
    try {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      send(res, 200, handler(query, body ?? {}) ?? {});
    } catch (err) {
      const status = err instanceof SimError ? err.status : 400;
      send(res, status, { message: (err as Error).message });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
