/**
 * What every scenario module returns, plus the small helpers the modules share: percentiles, and running
 * a module on its own (`npx ts-node --transpile-only bench/scenarios/<name>.ts [--quick]`).
 */

/** One measured number. `target` is the acceptance target as text; `ok` says whether it was met. */
export interface ScenarioRow {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  target?: string;
  ok?: boolean;
  note?: string;
}

export type Scenario = (opts: { quick: boolean }) => Promise<ScenarioRow[]>;

/** Nearest-rank percentile (p in 0..100) of the values; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export const median = (values: number[]): number => percentile(values, 50);

export function formatRows(rows: ScenarioRow[]): string {
  const head = ['scenario', 'metric', 'value', 'unit', 'target', 'ok', 'note'];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    Number.isFinite(r.value) ? String(Math.round(r.value * 100) / 100) : '—',
    r.unit,
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
    r.note ?? '',
  ]);
  const lines = [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

/** Runs a scenario from the command line (`--quick` for the small sizes) and prints its rows. */
export function runAlone(name: string, run: Scenario): void {
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  // Interrupted: exit through process.exit, whose exit hooks (test/support) kill the redis-server and
  // service children; a plain signal death would skip them.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  run({ quick })
    .then((rows) => {
      console.log(formatRows(rows));
      console.log(`\n${name}${quick ? ' (quick)' : ''}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
