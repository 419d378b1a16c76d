/**
 * `npm run simulator`: runs the simulator standalone with demo data.
 * Env: SIM_PORT (default 4010), SIM_API_KEY (default sk_sim_test), SIM_SPEED (default 1),
 * SIM_SEED_DEMO=0 to start empty, SIM_CONTROL_TOKEN to protect /__sim.
 */
import { seedDemo, startSimulator } from './index';

async function main(): Promise<void> {
  const running = await startSimulator({
    port: Number(process.env.SIM_PORT ?? 4010),
    host: process.env.SIM_HOST ?? '127.0.0.1',
    apiKey: process.env.SIM_API_KEY || undefined,
    speed: process.env.SIM_SPEED ? Number(process.env.SIM_SPEED) : undefined,
    controlToken: process.env.SIM_CONTROL_TOKEN || undefined,
  });
  if (process.env.SIM_SEED_DEMO !== '0') seedDemo(running.sim);
  process.stdout.write(
    `Novita simulator: ${running.baseUrl}\n  API key: ${running.apiKey}\n  control: ${running.url}/__sim/state\n`,
  );
  const stop = (): void => void running.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator failed to start: ${String(err)}\n`);
  process.exit(1);
});
