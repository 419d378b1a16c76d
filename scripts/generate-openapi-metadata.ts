import { PluginMetadataGenerator } from '@nestjs/cli/lib/compiler/plugins/plugin-metadata-generator';
import { join, relative } from 'node:path';

/**
 * Writes src/openapi.metadata.ts: what the @nestjs/swagger compiler plugin derives from DTOs and
 * controllers (property types, optionality, class-validator limits, doc comments as descriptions).
 * The app loads it before building the document, so /docs-json is the same under ts-node, jest and
 * the nest build. Run `npm run openapi:metadata` after changing a DTO or a controller; a unit test
 * fails while the committed file is stale.
 */
// The package exports the plugin as "@nestjs/swagger/plugin"; its types sit under dist/ (moduleResolution "node").
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ReadonlyVisitor } = require('@nestjs/swagger/plugin') as typeof import('@nestjs/swagger/dist/plugin');

export const METADATA_FILE = 'openapi.metadata.ts';
export const PLUGIN_OPTIONS = {
  introspectComments: true,
  classValidatorShim: true,
  controllerKeyOfComment: 'description',
  dtoFileNameSuffix: ['.dto.ts', '.query.ts', '.response.ts'],
  controllerFileNameSuffix: ['.controller.ts'],
};

export function generateOpenApiMetadata(
  outputDir: string,
  root = join(__dirname, '..'),
  filename = METADATA_FILE,
): void {
  new PluginMetadataGenerator().generate({
    visitors: [new ReadonlyVisitor({ ...PLUGIN_OPTIONS, pathToSource: join(root, 'src') })],
    outputDir,
    filename,
    // The generator resolves this against the working directory.
    tsconfigPath: relative(process.cwd(), join(root, 'tsconfig.build.json')),
    printDiagnostics: false,
  });
}

if (require.main === module) generateOpenApiMetadata(join(__dirname, '..', 'src'));
