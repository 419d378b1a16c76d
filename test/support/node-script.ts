import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Runs a CommonJS snippet in a plain Node process from the repository root, feeding `input` on stdin,
 * and returns its stdout. For tools jest's module loader cannot load (ESM-only dependencies) while Node
 * itself can.
 */
export function runNodeScript(script: string, input = '', timeoutMs = 60_000): string {
  const res = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (res.status !== 0) throw new Error(`node script failed (${res.status ?? res.signal}):\n${res.stderr}`);
  return res.stdout;
}
