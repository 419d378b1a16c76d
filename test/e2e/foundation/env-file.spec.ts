import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../../support/service-process';

const ROOT = join(__dirname, '..', '..', '..');

/** The node options of an npm script that runs `node [options] dist/src/main.js`. */
function nodeOptionsOf(script: string): string[] {
  const m = /^node (.*)dist\/src\/main\.js$/.exec(script);
  if (!m) throw new Error(`unexpected start script: ${script}`);
  return m[1].trim().split(/\s+/).filter(Boolean);
}

// README: `cp .env.example .env`, set NOVITA_API_KEY, `npm run build && npm start`. This runs the same
// node options as `npm start` (on the TypeScript entry point, to skip the build) in a folder holding
// only that .env.
describe('.env file (npm start)', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'env-file-'));
  });

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm start and start:dev read .env when present', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(nodeOptionsOf(scripts.start)).toContain('--env-file-if-exists=.env');
    expect(scripts['start:dev']).toContain('--env-file-if-exists=.env');
  });

  it('starts with the settings of a .env made from .env.example; environment variables win', async () => {
    const port = await freePort();
    const env = readFileSync(join(ROOT, '.env.example'), 'utf8')
      .replace(/^NOVITA_API_KEY=.*$/m, 'NOVITA_API_KEY=sk_from_env_file')
      .replace(/^NOVITA_API_BASE_URL=.*$/m, 'NOVITA_API_BASE_URL=http://127.0.0.1:9/gpu-instance/openapi/v1')
      .replace(/^PORT=.*$/m, `PORT=${port}`)
      .replace(/^API_KEYS=.*$/m, 'API_KEYS=key-from-file')
      .replace(/^LOG_LEVEL=.*$/m, 'LOG_LEVEL=warn');
    expect(env).toContain('NOVITA_API_KEY=sk_from_env_file');
    writeFileSync(join(dir, '.env'), env);

    const options = nodeOptionsOf(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start);
    const output: string[] = [];
    child = spawn(
      process.execPath,
      [...options, '-r', require.resolve('ts-node/register/transpile-only'), join(ROOT, 'src', 'main.ts')],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          // Set in the environment and in .env: the environment's value must win.
          API_KEYS: 'key-from-environment',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));

    let exited = false;
    child.once('exit', () => (exited = true));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      if (exited) throw new Error('the service exited');
      return (await fetch(`${url}/health/live`)).ok;
    }, 60_000).catch((err) => {
      throw new Error(`${String(err)}\n${output.join('')}`);
    });
    const withEnvKey = await fetch(`${url}/api/instances`, {
      headers: { 'X-API-Key': 'key-from-environment' },
    });
    expect(withEnvKey.status).toBe(200);
    const withFileKey = await fetch(`${url}/api/instances`, { headers: { 'X-API-Key': 'key-from-file' } });
    expect(withFileKey.status).toBe(401);
  }, 90_000);
});
