import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { METADATA_FILE, generateOpenApiMetadata } from '../scripts/generate-openapi-metadata';

// The document is built from src/openapi.metadata.ts; a DTO or controller changed without regenerating
// it would ship a document that no longer describes the code.
describe('src/openapi.metadata.ts', () => {
  it('is what `npm run openapi:metadata` generates from the current sources', () => {
    const scratch = `openapi.metadata.check-${process.pid}.ts`;
    try {
      generateOpenApiMetadata(__dirname, join(__dirname, '..'), scratch);
      const fresh = readFileSync(join(__dirname, scratch), 'utf8');
      const committed = readFileSync(join(__dirname, METADATA_FILE), 'utf8');
      expect(committed).toBe(fresh);
    } finally {
      rmSync(join(__dirname, scratch), { force: true });
    }
  }, 60_000);
});
