import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Runs the real service as a child process (ts-node, no build step), capturing its log lines,
 * so tests can kill it, restart it, or read what it logged.
 */
export interface ServiceProcess {
  readonly url: string;
  readonly port: number;
  readonly lines: string[];
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const ROOT = join(__dirname, '..', '..');
const live = new Set<ChildProcess>();
process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns src/main.ts with exactly the given environment (plus PATH/HOME); does not wait for readiness. */
export function spawnService(env: Record<string, string>, port: number, entry = 'main.ts'): ServiceProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', entry)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    lines,
    child,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Spawns the service and waits until /health/live answers. */
export async function startService(
  env: Record<string, string>,
  opts: { port?: number; timeoutMs?: number; entry?: string } = {},
): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const svc = spawnService(env, port, opts.entry);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let done = false;
  void svc.exited.then(() => (done = true));
  while (Date.now() < deadline) {
    if (done) throw new Error(`service exited during startup:\n${svc.lines.slice(-30).join('\n')}`);
    try {
      const res = await fetch(`${svc.url}/health/live`);
      if (res.ok) return svc;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await svc.kill('SIGKILL');
  throw new Error(`service did not become live in time:\n${svc.lines.slice(-30).join('\n')}`);
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  stepMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
