/**
 * The processes a benchmark run needs, each in its own process so the load generator, Novita's stand-in
 * and the measured server never share an event loop: redis-server, the simulator, the built service
 * (dist/src/main.js) and the bare Fastify reference.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServerHandle, startRedisServer } from '../../test/support/redis-server';
import { freePort } from '../../test/support/service-process';

export const ROOT = join(__dirname, '..', '..');
export const API_KEY = 'bench-key';
const SIM_API_KEY = 'sk_bench';

// Whatever happens to the run (an exception, Ctrl-C), no child outlives it.
const children = new Set<ChildProcess>();
const killAll = (): void => children.forEach((c) => c.kill('SIGKILL'));
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export interface Child {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines it wrote, for error messages. */
  readonly output: () => string;
  stop(): Promise<void>;
}

function spawnChild(command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  return {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `url` until it answers 200, failing early when the process has exited. */
export async function waitForOk(url: string, proc: Child, timeoutMs = 60_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`process exited before ${url} answered:\n${proc.output()}`);
    }
    const ok = await fetch(url)
      .then(async (r) => (await r.arrayBuffer(), r.ok))
      .catch(() => false);
    if (ok) return;
    await sleep(stepMs);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${proc.output()}`);
}

export interface SimulatorProcess extends Child {
  /** Root of the control routes (/__sim/...). */
  readonly url: string;
  /** Novita API base URL, as the service is configured with it. */
  readonly baseUrl: string;
  readonly apiKey: string;
  seed(n: number): Promise<void>;
}

export async function startSimulator(): Promise<SimulatorProcess> {
  const port = await freePort();
  const proc = spawnChild(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'simulator', 'main.ts')],
    { ...process.env, SIM_PORT: String(port), SIM_SEED_DEMO: '0', SIM_API_KEY },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/__sim/state`, proc);
  return {
    ...proc,
    url,
    baseUrl: `${url}/gpu-instance/openapi/v1`,
    apiKey: SIM_API_KEY,
    async seed(n: number) {
      const res = await fetch(`${url}/__sim/seed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n, instance: { status: 'running' } }),
      });
      if (!res.ok) throw new Error(`seeding ${n} simulator instances failed: ${res.status}`);
      await res.arrayBuffer();
    },
  };
}

export interface ServiceProcess extends Child {
  readonly url: string;
}

export const SERVICE_ENTRY = join(ROOT, 'dist', 'src', 'main.js');

/** The environment the benchmarks run the service with; `extra` overrides. */
export function serviceEnv(
  redis: RedisServerHandle,
  sim: SimulatorProcess,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    API_KEYS: API_KEY,
    REDIS_URL: redis.url,
    NOVITA_API_KEY: sim.apiKey,
    NOVITA_API_BASE_URL: sim.baseUrl,
    // The limiter stays on (its reservations from the store are part of the run) with a budget the load never reaches.
    RATE_LIMIT_MAX_REQUESTS: '100000',
    RATE_LIMIT_WINDOW_MS: '1000',
    // Cached reads stay cached for the whole run unless a scenario asks otherwise.
    INSTANCE_CACHE_STALE_MS: '3600000',
    SHUTDOWN_DELAY_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...extra,
  };
}

/** Spawns the built service; does not wait. */
export function spawnService(env: Record<string, string>, port: number): ServiceProcess {
  if (!existsSync(SERVICE_ENTRY)) throw new Error('dist/src/main.js is missing: run `npx nest build` first');
  const proc = spawnChild(process.execPath, [SERVICE_ENTRY], { ...env, PORT: String(port) });
  return { ...proc, url: `http://127.0.0.1:${port}` };
}

export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const svc = spawnService(env, await freePort());
  try {
    await waitForOk(`${svc.url}/health/ready`, svc);
  } catch (err) {
    await svc.stop();
    throw err;
  }
  return svc;
}

export interface ReferenceBodies {
  live: unknown;
  instances: Record<string, unknown>;
}

/** The bare Fastify server answering the same routes with the same bodies (bench/reference-server.ts). */
export async function startReference(
  bodies: ReferenceBodies,
  headers: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const proc = spawnChild(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'reference-server.ts')],
    {
      ...process.env,
      REF_PORT: String(port),
      REF_BODIES: JSON.stringify(bodies),
      REF_HEADERS: JSON.stringify(headers),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/health/live`, proc);
  return { ...proc, url };
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

export { startRedisServer };
export type { RedisServerHandle };

/** Novita instances, a redis-server and the service synced with them: one "account" to measure. */
export interface Stack {
  readonly redis: RedisServerHandle;
  readonly sim: SimulatorProcess;
  readonly service: ServiceProcess;
  readonly instances: number;
  stop(): Promise<void>;
}

export async function apiGet(base: string, path: string): Promise<unknown> {
  const res = await fetch(`${base}${path}`, { headers: { 'x-api-key': API_KEY } });
  const body = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

/**
 * Seeds the simulator with `instances`, starts the service and waits until its startup sync pass
 * has adopted every one (the same path a real deployment takes for an existing Novita account).
 */
export async function startStack(instances: number, extraEnv: Record<string, string> = {}): Promise<Stack> {
  const [redis, sim] = await Promise.all([startRedisServer(), startSimulator()]);
  let service: ServiceProcess | undefined;
  try {
    if (instances > 0) await sim.seed(instances);
    service = await startService(serviceEnv(redis, sim, extraEnv));
    const deadline = Date.now() + 180_000;
    for (;;) {
      const page = (await apiGet(service.url, '/api/instances?limit=1')) as { total: number };
      if (page.total >= instances) break;
      if (Date.now() > deadline) throw new Error(`service adopted ${page.total} of ${instances} instances`);
      await sleep(200);
    }
    // The startup pass may still be finishing its last steps (obsolete check, run record): wait for it.
    await waitForSyncIdle(service.url);
    const svc = service;
    return {
      redis,
      sim,
      service: svc,
      instances,
      async stop() {
        await svc.stop();
        await Promise.all([sim.stop(), redis.stop()]);
      },
    };
  } catch (err) {
    await service?.stop();
    await Promise.all([sim.stop(), redis.stop()]);
    throw err;
  }
}

/** Waits until no sync pass is running (GET /health reports sync.isLocked). */
export async function waitForSyncIdle(base: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${base}/health`, { headers: { 'x-api-key': API_KEY } });
    const body = (await res.json().catch(() => ({}))) as {
      sync?: { isLocked?: boolean; lastSync?: unknown };
    };
    if (body.sync && !body.sync.isLocked && body.sync.lastSync) return;
    await sleep(200);
  }
  throw new Error('the sync pass did not finish in time');
}
