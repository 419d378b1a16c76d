import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { major, minVersion, satisfies } from 'semver';

const ROOT = join(__dirname, '..', '..', '..');

// `npm ci` on the oldest Node that package.json allows must not warn EBADENGINE, and the Docker image
// must run a Node that package.json and every production dependency accept.
describe('Node version', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
  };
  const oldest = minVersion(pkg.engines.node)!.version;
  const engineOf = (p: { engines?: { node?: string } | string[] }) =>
    p.engines && !Array.isArray(p.engines) ? p.engines.node : undefined;

  it('every locked package accepts the oldest Node that package.json allows', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path && engineOf(p) && !satisfies(oldest, engineOf(p)!))
      .map(([path, p]) => `${path} wants ${engineOf(p)}`);
    expect(refusing).toEqual([]);
  });

  it('the Docker image runs a Node major that package.json and the production dependencies accept', () => {
    const froms = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\d+)[\w.-]*/gm)];
    expect(froms.length).toBeGreaterThan(0);
    for (const [, imageMajor] of froms) {
      const version = `${imageMajor}.0.0`;
      expect(satisfies(version, pkg.engines.node)).toBe(true);
      const refusing = Object.entries(lock.packages)
        .filter(([path, p]) => path && !p.dev && engineOf(p) && !satisfies(version, engineOf(p)!))
        .map(([path]) => path);
      expect(refusing).toEqual([]);
    }
    expect(major(oldest)).toBeLessThanOrEqual(Number(froms[0][1]));
  });
});
