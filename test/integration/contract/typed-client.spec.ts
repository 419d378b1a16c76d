import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNodeScript } from '../../support/node-script';
import { appOpenApiDocument } from '../../support/openapi-document';

const ROOT = join(__dirname, '..', '..', '..');
const PROGRAM = join(ROOT, 'test', 'typed-client', 'client-program.ts');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** tsc --strict over the directory; returns its diagnostics ('' when the program compiles). */
function typeCheck(dir: string): string {
  const res = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], {
    cwd: dir,
    encoding: 'utf8',
  });
  return res.status === 0 ? '' : `${res.stdout}${res.stderr}` || `tsc exited ${res.status}`;
}

// A client generated from the app's own document must compile, unaided, under --strict.
describe('typed client generated with openapi-typescript', () => {
  // Inside the repository (under the git-ignored .tmp/) so the program resolves openapi-fetch from node_modules.
  const dir = join(ROOT, '.tmp', `typed-client-${process.pid}`);

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const doc = await appOpenApiDocument();
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
    // openapi-typescript's dependencies are ESM-only for jest; plain Node loads its CommonJS build.
    runNodeScript(
      `const fs = require('node:fs'), path = require('node:path');
       const { default: openapiTS, astToString } = require('openapi-typescript');
       const dir = ${JSON.stringify(dir)};
       openapiTS(JSON.parse(fs.readFileSync(path.join(dir, 'openapi.json'), 'utf8')))
         .then((ast) => fs.writeFileSync(path.join(dir, 'api.d.ts'), astToString(ast)));`,
    );
    copyFileSync(PROGRAM, join(dir, 'client-program.ts'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM'],
          skipLibCheck: false,
          types: [],
        },
        files: ['client-program.ts'],
      }),
    );
  }, 90_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates with an Idempotency-Key, lists with filters and pages, reads an error envelope and starts by name', () => {
    expect(typeCheck(dir)).toBe('');
  }, 60_000);

  it('uses no casts or non-null assertions to get there', () => {
    const code = readFileSync(PROGRAM, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(code).not.toMatch(/\bas\s+(unknown|any|[A-Z{(])/);
    expect(code).not.toMatch(/[\w)\]]!\./);
    expect(code).not.toMatch(/@ts-(ignore|expect-error|nocheck)/);
  });

  it('would catch a client that disagrees with the document', () => {
    const wrong = readFileSync(PROGRAM, 'utf8')
      .replace('gpuNum: 1,', "gpuNum: 'one',")
      .replace("status: 'creating'", "status: 'exploded'");
    writeFileSync(join(dir, 'client-program.ts'), wrong);
    try {
      const diagnostics = typeCheck(dir);
      expect(diagnostics).toMatch(/client-program\.ts\(\d+,\d+\): error TS2322/);
      expect(diagnostics).toMatch(/'"exploded"' is not assignable/);
    } finally {
      copyFileSync(PROGRAM, join(dir, 'client-program.ts'));
    }
  }, 60_000);
});
