import { Server, createServer } from 'node:http';
import { AddressInfo, Socket, connect } from 'node:net';
import Redis from 'ioredis';
import { RedisServerHandle, startRedisServer } from '../../support/redis-server';
import { ServiceProcess, startService, waitFor } from '../../support/service-process';

const DELAY_MS = 1500;
const TIMEOUT_MS = 6000;

/**
 * A Novita stand-in whose GET /gpu/instance answers "not found" after the number of milliseconds
 * in the instance id ("slow-3000"), so the test controls how long a request to the service runs.
 */
async function startSlowNovita(): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer((req, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('instanceId') ?? '';
    const wait = Number(/^slow-(\d+)$/.exec(id)?.[1] ?? 0);
    const timer = setTimeout(() => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 404, reason: 'INSTANCE_NOT_FOUND', message: 'instance not found' }));
    }, wait);
    // The service may exit before the answer is due; the test process must not wait for it.
    res.once('close', () => clearTimeout(timer));
    timer.unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gpu-instance/openapi/v1`,
  };
}

/** Never rejects: a refused or reset connection is status 0, so a failed expectation cannot leave a dangling rejection. */
async function timed(
  url: string,
): Promise<{ status: number; body: any; at: number; connection?: string | null; error?: string }> {
  try {
    const res = await fetch(url);
    const text = await res.text();
    const connection = res.headers.get('connection');
    return { status: res.status, body: text ? JSON.parse(text) : null, at: Date.now(), connection };
  } catch (err) {
    return { status: 0, body: null, at: Date.now(), error: String((err as Error).cause ?? err) };
  }
}

// SIGTERM to the real process while requests are in flight, as Kubernetes sends it.
describe('graceful shutdown (service process)', () => {
  let novita: { server: Server; baseUrl: string };
  let svc: ServiceProcess;
  let redis: RedisServerHandle;
  let client: Redis;
  const leases = () => client.keys('novita_api:__sys:lease:*');

  beforeAll(async () => {
    novita = await startSlowNovita();
    redis = await startRedisServer();
    client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    svc = await startService({
      REDIS_URL: redis.url,
      NOVITA_API_KEY: 'sk_unused',
      NOVITA_API_BASE_URL: novita.baseUrl,
      NOVITA_MAX_RETRIES: '0',
      NOVITA_REQUEST_TIMEOUT_MS: '30000',
      SHUTDOWN_DELAY_MS: String(DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS),
      LOG_LEVEL: 'info',
    });
  }, 90_000);

  afterAll(async () => {
    await svc?.kill('SIGKILL');
    client?.disconnect();
    await redis?.stop();
    novita?.server.closeAllConnections();
    await new Promise((r) => novita?.server.close(r));
  });

  it('turns readiness to 503 at once, drains, answers stragglers 503, releases leases and exits within the timeout', async () => {
    // The background loops and the metrics gauges hold their leases in the store while running.
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(200);
    const held = await waitFor(async () => {
      const keys = await leases();
      return keys.some((k) => k.endsWith('job:webhooks')) &&
        keys.some((k) => k.endsWith('metrics:shared-gauges'))
        ? keys
        : false;
    });
    expect(held.length).toBeGreaterThanOrEqual(2);

    // Finishes during the drain: it must get its real answer (Novita said not found: 404).
    const finishing = timed(`${svc.url}/api/instances/slow-3000`);
    // Still running at the drain deadline: it must get a clean 503, not a reset socket.
    const straggler = timed(`${svc.url}/api/instances/slow-20000`);
    await new Promise((r) => setTimeout(r, 300));

    const sentAt = Date.now();
    svc.child.kill('SIGTERM');
    const exited = svc.exited.then((code) => ({ code, at: Date.now() }));

    // Readiness flips well within one probe period (the signal takes a moment to reach the process);
    // everything else is still served during the delay.
    let ready = await timed(`${svc.url}/health/ready`);
    while (ready.status === 200 && Date.now() - sentAt < 2000) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await timed(`${svc.url}/health/ready`);
    }
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('SHUTTING_DOWN');
    expect(ready.at - sentAt).toBeLessThan(1000);
    const live = await timed(`${svc.url}/health/live`);
    expect(live.status).toBe(200);
    expect(live.at - sentAt).toBeLessThan(DELAY_MS);
    // Answered while draining, so by Fastify's path (not the inline answer), which asks the client to reconnect.
    expect(live.connection).toBe('close');

    const done = await finishing;
    expect(done.status).toBe(404);
    expect(done.body.error.code).toBe('NOT_FOUND');

    const late = await straggler;
    expect(late.status).toBe(503);
    expect(late.body.error).toMatchObject({ code: 'SHUTTING_DOWN', requestId: expect.any(String) });
    // Answered at the drain deadline, which leaves time for background work before the budget ends.
    expect(late.at - sentAt).toBeGreaterThanOrEqual(DELAY_MS);
    expect(late.at - sentAt).toBeLessThan(TIMEOUT_MS);

    const exit = await exited;
    expect(exit.code).toBe(0);
    expect(exit.at - sentAt).toBeLessThan(TIMEOUT_MS + 500);

    // Released on the way out, so another replica takes over at once instead of after the lease time.
    expect(await leases()).toEqual([]);

    const steps = svc.lines.filter((l) => l.includes('"context":"Shutdown"')).map((l) => JSON.parse(l).msg);
    expect(steps).toEqual([
      expect.stringContaining('step 1/3'),
      expect.stringContaining('step 2/3'),
      expect.stringContaining('Drain deadline reached'),
      expect.stringContaining('step 3/3'),
    ]);
  }, 30_000);

  it('does not let a client that stalls mid-request or stops reading hold the process past the drain deadline', async () => {
    svc = await startService({
      REDIS_URL: redis.url,
      NOVITA_API_KEY: 'sk_unused',
      NOVITA_API_BASE_URL: novita.baseUrl,
      NOVITA_MAX_RETRIES: '0',
      SHUTDOWN_DELAY_MS: String(DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS),
      LOG_LEVEL: 'info',
    });
    await waitFor(async () => (await leases()).some((k) => k.endsWith('job:webhooks')));
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(svc.port, '127.0.0.1', () => resolve(socket));
        socket.once('error', reject);
      });
    // Headers that never end: the server holds a request in progress on this connection.
    const midRequest = await open();
    midRequest.on('error', () => undefined);
    midRequest.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    // Asks for the Swagger UI bundle over and over on one connection and never reads an answer:
    // the answers fill the socket buffers and the server's writes stall.
    const notReading = await open();
    notReading.on('error', () => undefined);
    notReading.pause();
    notReading.write('GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(40));
    await new Promise((r) => setTimeout(r, 500));

    const sentAt = Date.now();
    svc.child.kill('SIGTERM');
    const code = await svc.exited;
    // A clean exit (0, after the leases were released), not the hard stop at the end of the budget.
    expect({ code, tookMs: Date.now() - sentAt < TIMEOUT_MS }).toEqual({ code: 0, tookMs: true });
    expect(await leases()).toEqual([]);
    midRequest.destroy();
    notReading.destroy();
  }, 30_000);
});
