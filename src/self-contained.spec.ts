import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');
const SCANNED = ['src', 'simulator', 'test', 'bench', 'docs', 'scripts', 'README.md', '.env.example', '.ci'];
const SKIP = new Set(['node_modules', 'dist', 'coverage', 'reports', '.stryker-tmp']);

function files(path: string): string[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return [path];
  return readdirSync(path)
    .filter((n) => !SKIP.has(n))
    .flatMap((n) => files(join(path, n)));
}

// A fresh clone must test green on its own: nothing may point at folders beside the repository.
describe('repository is self-contained', () => {
  it('no file refers to a sibling "shared" folder or an absolute path of a workstation', () => {
    const outside = /\.\.\/shared\/|\/work\/|\/home\/[a-z]/;
    const offenders = SCANNED.flatMap((p) => files(join(ROOT, p)))
      .filter((f) => f !== __filename)
      .filter((f) => outside.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('vendors the Novita OpenAPI document with its licence beside it', () => {
    const dir = join(ROOT, 'simulator', 'novita-openapi');
    expect(readFileSync(join(dir, 'openapi.yaml'), 'utf8')).toMatch(/^openapi: 3\.0\.3/m);
    expect(readFileSync(join(dir, 'openapi.LICENSE'), 'utf8')).toMatch(/MIT License/);
  });
});
