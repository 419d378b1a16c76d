import 'reflect-metadata';
import { createApp } from './app.factory';
import { ConfigValidationError } from './config/config.loader';
import { readConfigFromEnvironment } from './config/environment';
import { installGracefulShutdown } from './infra/lifecycle/graceful-shutdown';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = readConfigFromEnvironment();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp(config);
  installGracefulShutdown(app, {
    delayMs: config.operations.shutdownDelayMs,
    timeoutMs: config.operations.shutdownTimeoutMs,
  });
  await app.listen({ port: config.app.port, host: '0.0.0.0' });
}

void bootstrap();
