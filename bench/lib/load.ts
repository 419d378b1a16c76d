/** Load generators, always in a child process so they never share the measured server's event loop. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { API_KEY, ROOT } from './processes';

function runJson<T>(args: string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${args.join(' ')} failed: ${err.message}\n${stderr}`));
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`unexpected output from ${args[0]}: ${stdout.slice(0, 500)}\n${stderr}`));
        }
      },
    );
  });
}

export interface ThroughputResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Non-2xx answers, errors and timeouts: any of them makes the round suspect. */
  failures: number;
}

/** Closed-loop load with autocannon: `connections` clients each sending the next request on an answer. */
export async function throughput(
  url: string,
  opts: { connections: number; seconds: number },
): Promise<ThroughputResult> {
  const r = await runJson<{
    duration: number;
    requests: { total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  }>(
    [
      require.resolve('autocannon'),
      '--json',
      '--connections',
      String(opts.connections),
      '--duration',
      String(opts.seconds),
      // A slow route (the list over 10,000 records) must count as slow, not as failed at the default 10 s.
      '--timeout',
      '60',
      '--headers',
      `x-api-key=${API_KEY}`,
      url,
    ],
    (opts.seconds + 120) * 1000,
  );
  return {
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

export interface FixedRateResult {
  sent: number;
  answered: number;
  errors: number;
  non2xx: number;
  achievedRate: number;
  maxInFlight: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Open-loop load at a fixed rate (bench/lib/fixed-rate-client.ts); latencies in ms. */
export function fixedRate(url: string, rate: number, seconds: number): Promise<FixedRateResult> {
  return runJson<FixedRateResult>(
    [
      '-r',
      'ts-node/register/transpile-only',
      join(__dirname, 'fixed-rate-client.ts'),
      url,
      String(rate),
      String(seconds),
      `x-api-key=${API_KEY}`,
    ],
    (seconds + 60) * 1000,
  );
}
