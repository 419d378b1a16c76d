import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { seedDemo, startSimulator } from '../simulator';
import { createApp } from './app.factory';
import { ConfigValidationError } from './config/config.loader';
import { readConfigFromEnvironment } from './config/environment';

/**
 * Demo mode: the service with the in-memory store against an embedded Novita simulator seeded with a
 * handful of instances. Needs no credentials and no other services.
 */
async function runDemo(): Promise<void> {
  let config;
  try {
    config = readConfigFromEnvironment({ demoMode: true });
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const simulator = await startSimulator({ speed: 10 });
  await seedDemo(simulator.sim);

  const demoKey = config.security.apiKeys[0] ?? `demo-${randomBytes(9).toString('base64url')}`;
  config.security.apiKeys = config.security.apiKeys.length ? config.security.apiKeys : [demoKey];
  config.novita = { ...config.novita, baseUrl: simulator.baseUrl, apiKey: simulator.apiKey };
  config.store = { ...config.store, kind: 'memory' };
  // The simulator's instance endpoints live on loopback, and demo receivers usually do too.
  config.webhooks = { ...config.webhooks, allowPrivateTargets: true };

  const app = await createApp(config);
  await app.listen({ port: config.app.port, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${config.app.port}`;
  process.stdout.write(
    [
      '',
      'Novita GPU control plane: demo mode (embedded Novita simulator, in-memory store)',
      `  Dashboard:   ${base}/  (enter the API key below)`,
      `  Swagger UI:  ${base}/docs`,
      `  Health:      ${base}/health/ready`,
      `  Simulator:   ${simulator.baseUrl}/gpu/instances  (Authorization: Bearer ${simulator.apiKey})`,
      `  API key:     ${demoKey}`,
      `  Try:         curl -H 'X-API-Key: ${demoKey}' ${base}/api/instances`,
      '',
    ].join('\n') + '\n',
  );
  const shutdown = async () => {
    await app.close();
    await simulator.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

void runDemo();
