import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Smoke test of `npm run bench -- --quick`: the whole command (build, redis-server, simulator, service,
 * reference, load generators) runs end to end and the report has a row with a number for each scenario
 * it ran. Timings are not asserted: the numbers depend on the machine.
 * idle-to-stop and reclaim-to-migrate are left out: they wait for a real idle minute and a reclaim check
 * (about two minutes together, even in quick mode); run them with `npm run bench -- --quick --only ...`.
 */
const ROOT = join(__dirname, '..', '..', '..');
const ONLY = 'throughput,latency,list,sync,memory,stale,boot,auto-stop-pass';
const BUILT_IN = ['1.', '2.', '3.', '4.', '5.', '6.', '7.'];
const MODULES: [string, string][] = [['8c.', 'auto-stop-pass']];

function sections(report: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  for (const block of report.split('\n### ').slice(1)) {
    const [heading, ...lines] = block.split('\n');
    const rows = lines
      .filter((l) => l.startsWith('| ') && !l.startsWith('| scenario |'))
      .map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, '').trim()));
    out.set(heading.split(' ')[0], rows);
  }
  return out;
}

const numeric = (cell: string): boolean => /^-?[\d,]+(\.\d+)?$/.test(cell);

describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  const out = join(dir, 'PERFORMANCE.md');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the scenarios and writes a row with a number for each', () => {
    const res = spawnSync('npm', ['run', 'bench', '--', '--quick', '--only', ONLY, '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 420_000,
    });
    expect({ status: res.status, stderr: res.status === 0 ? '' : res.stderr.slice(-3000) }).toEqual({
      status: 0,
      stderr: '',
    });
    const report = readFileSync(out, 'utf8');
    expect(report).toContain('<!-- bench:begin -->');
    expect(report).toContain('<!-- bench:end -->');
    expect(report).toMatch(/- CPU: .+, \d+ logical cores/);
    expect(report).not.toContain(ROOT);
    const found = sections(report);
    expect([...found.keys()]).toEqual([...BUILT_IN, ...MODULES.map(([key]) => key)]);
    for (const key of BUILT_IN) {
      const rows = found.get(key) ?? [];
      expect({ key, rows: rows.length > 0 }).toEqual({ key, rows: true });
      for (const row of rows)
        expect({ key, row, numeric: numeric(row[2]) }).toEqual({ key, row, numeric: true });
    }
    for (const [key, name] of MODULES) {
      const rows = found.get(key) ?? [];
      expect(rows.length).toBeGreaterThan(0);
      // Until the module exists the runner says so; once it does, its rows must carry numbers.
      if (existsSync(join(ROOT, 'bench', 'scenarios', `${name}.ts`))) {
        for (const row of rows)
          expect({ key, row, numeric: numeric(row[2]) }).toEqual({ key, row, numeric: true });
      } else {
        expect(rows[0][1]).toBe('not run');
      }
    }
  }, 480_000);
});
