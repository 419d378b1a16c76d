/**
 * Open-loop load at a fixed request rate, run in its own process: requests go out on schedule whether or
 * not earlier ones have answered, so a slow server shows up as latency instead of a lower rate.
 * (autocannon's --overallRate sends each connection's per-second quota as a burst at the start of every
 * second, which measures latency under bursts rather than at a steady rate.)
 * Usage: fixed-rate-client.ts <url> <rate per s> <seconds> [header=value ...]; prints one JSON line.
 * The first second is a warm-up (sockets opening, JIT) at the same rate and is not recorded.
 */
import { Agent, request } from 'node:http';

const [url, rateArg, secondsArg, ...headerArgs] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const headers = Object.fromEntries(
  headerArgs.map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)] as [string, string]),
);
// Enough sockets that the client never queues a request behind another.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const WARMUP_SECONDS = 1;
const warmup = Math.round(rate * WARMUP_SECONDS);
const total = warmup + Math.round(rate * seconds);
const latencies: number[] = [];
let sent = 0;
let done = 0;
let errors = 0;
let non2xx = 0;
let inFlight = 0;
let maxInFlight = 0;

function fire(recorded: boolean): void {
  const t0 = performance.now();
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const finish = (ok: boolean, status = 0): void => {
    inFlight--;
    done++;
    if (!recorded) {
      // warm-up: not counted
    } else if (!ok) errors++;
    else {
      if (status < 200 || status >= 300) non2xx++;
      latencies.push(performance.now() - t0);
    }
    if (done === total) report();
  };
  const req = request(url, { agent, headers }, (res) => {
    res.on('data', () => undefined);
    res.on('end', () => finish(true, res.statusCode ?? 0));
    res.on('error', () => finish(false));
  });
  req.on('error', () => finish(false));
  req.end();
}

const start = performance.now();
let measuredFrom = 0;
function tick(): void {
  // Everything due by now goes out; timers fire about every millisecond, so batches stay small.
  const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
  if (sent < warmup && due >= warmup) measuredFrom = performance.now();
  while (sent < due) {
    fire(sent >= warmup);
    sent++;
  }
  if (sent < total) setTimeout(tick, 1);
}

function report(): void {
  const elapsed = (performance.now() - (measuredFrom || start)) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * p) - 1)] : NaN;
  process.stdout.write(
    JSON.stringify({
      sent: sent - warmup,
      answered: latencies.length,
      errors,
      non2xx,
      seconds: elapsed,
      achievedRate: latencies.length / elapsed,
      maxInFlight,
      p50: pct(0.5),
      p90: pct(0.9),
      p99: pct(0.99),
      max: latencies[latencies.length - 1] ?? NaN,
    }) + '\n',
  );
  agent.destroy();
}

tick();
