import { ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/**
 * Starts a throwaway redis-server on a free loopback port, with persistence off. stop() and
 * restart() keep the same port, so tests can take the store down and bring it back.
 */
export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: persistence is off). */
  restart(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export async function startRedisServer(): Promise<RedisServerHandle> {
  // A port freed by the probe can be taken by someone else before redis binds it; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(port);
    } catch (err) {
      if (err instanceof RedisServerMissingError) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

class RedisServerMissingError extends Error {}

// Never leave a redis-server behind when a test run ends without calling stop().
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

async function launch(port: number): Promise<RedisServerHandle> {
  let child: ChildProcess | null = await spawnServer(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== null;
    },
    async stop() {
      if (!child) return;
      const current = child;
      child = null;
      await terminate(current);
    },
    async restart() {
      if (child) throw new Error('redis-server is still running');
      child = await spawnServer(port);
    },
  };
}

async function spawnServer(port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));

  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new RedisServerMissingError(missingMessage()));
      else reject(err);
    });
    child.once('exit', (code, signal) =>
      reject(
        new Error(`redis-server on port ${port} exited early (code ${code}, signal ${signal}):\n${output}`),
      ),
    );
  });
  exited.catch(() => undefined);

  try {
    await Promise.race([exited, waitForPong(port, START_TIMEOUT_MS)]);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw err;
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

function missingMessage(): string {
  const hint =
    process.env.CI === 'true'
      ? 'redis-server is required in CI: install it in the CI image (apt-get install -y redis-server).'
      : 'redis-server is required for the store contract tests: install it (apt-get install -y redis-server, ' +
        'brew install redis) or point REDIS_SERVER_BIN at the binary.';
  return `Cannot start ${BINARY}: not found. ${hint}`;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pingOnce(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
