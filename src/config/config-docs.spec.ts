import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentVariables } from './env.schema';

// Keeps the docs honest: every variable the schema validates is documented in both places.
describe('configuration docs', () => {
  const root = join(__dirname, '..', '..');
  const variables = [
    ...new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
        .map((m) => m.propertyName),
    ),
  ];

  it('validates a sizeable set of variables', () => {
    expect(variables).toEqual(
      expect.arrayContaining(['SYNC_INTERVAL_MINUTES', 'MIGRATION_MAX_CONCURRENT', 'API_KEYS', 'REDIS_URL']),
    );
  });

  it.each(['.env.example', 'docs/configuration.md'])('%s lists every variable', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const missing = variables.filter((v) => !new RegExp(`\\b${v}\\b`).test(text));
    expect(missing).toEqual([]);
  });
});
