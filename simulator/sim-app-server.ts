/**
 * One loopback HTTP server standing in for every instance's exposed HTTP ports. Port-mapping
 * endpoints point here (`/i/<instanceId>/<port>/...`), so a readiness check really passes or fails.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { SimState } from './sim-state';

export class SimAppServer {
  private server?: http.Server;
  private readonly pending = new Set<NodeJS.Timeout>();
  baseUrl = '';

  constructor(
    private readonly state: SimState,
    private readonly slowMs: () => number,
  ) {}

  async listen(host: string): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${port}`;
  }

  async close(): Promise<void> {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Status code the app would answer right now, and whether it answers slowly. */
  probe(instanceId: string, port: number): { status: number; slow: boolean; reason: string } {
    const now = this.state.settleAll();
    const inst = this.state.instances.get(instanceId);
    if (!inst || inst.status === 'removed') return { status: 404, slow: false, reason: 'no such instance' };
    if (!inst.ports.some((p) => p.port === port && p.type === 'http')) {
      return { status: 404, slow: false, reason: 'port not exposed' };
    }
    if (inst.status !== 'running' || inst.spotStatus === 'reclaiming') {
      return { status: 503, slow: false, reason: `instance is ${inst.status}` };
    }
    if (now < inst.startedAt + this.state.timings.appBoot)
      return { status: 503, slow: false, reason: 'app booting' };
    if (inst.appHealth === 'unhealthy') return { status: 503, slow: false, reason: 'app unhealthy' };
    return { status: 200, slow: inst.appHealth === 'slow', reason: 'ok' };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const m = /^\/i\/([0-9a-f]+)\/(\d+)(\/.*)?$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    const [, instanceId, port] = m;
    const result = this.probe(instanceId, Number(port));
    const send = (): void => {
      if (res.writableEnded || res.destroyed) return;
      res
        .writeHead(result.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ instanceId, port: Number(port), path: m[3] ?? '/', status: result.reason }));
    };
    if (!result.slow) return send();
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      send();
    }, this.slowMs());
    this.pending.add(timer);
  }
}
