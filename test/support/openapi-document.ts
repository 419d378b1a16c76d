import type { OpenAPIObject } from '@nestjs/swagger';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/config.loader';

let cached: Promise<OpenAPIObject> | undefined;

/**
 * The document the app serves at /docs-json, built in-process (memory store, Novita never called).
 * The Swagger UI is left out: jest cannot load its static-file plugin's ESM dependencies, and the
 * document does not depend on it.
 */
export function appOpenApiDocument(): Promise<OpenAPIObject> {
  cached ??= (async () => {
    const app = await createApp(
      loadConfig({
        NOVITA_API_KEY: 'sk_unused',
        NOVITA_API_BASE_URL: 'http://127.0.0.1:9/gpu-instance/openapi/v1',
        API_KEYS: 'contract-key',
        LOG_LEVEL: 'silent',
        AUTO_STOP_ENABLED: 'false',
        SYNC_ENABLE_AUTOMATIC_SYNC: 'false',
        MIGRATION_ENABLED: 'false',
      }),
      { swaggerUi: false },
    );
    try {
      await app.init();
      const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' });
      if (res.statusCode !== 200) throw new Error(`/docs-json answered ${res.statusCode}`);
      return res.json() as OpenAPIObject;
    } finally {
      await app.close();
    }
  })();
  return cached;
}
