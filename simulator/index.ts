/**
 * A local Novita GPU-instance API simulator: start it in-process for tests, or via main.ts.
 * See docs/novita-simulator.md.
 */
import { SimHttpServer } from './sim-http-server';
import { SimulatorOptions } from './sim-types';
import { API_BASE_PATH, Simulator } from './simulator';

export { Simulator, API_BASE_PATH } from './simulator';
export type { WireInstance } from './simulator';
export { seedDemo } from './seed-demo';
export { DEFAULT_TIMINGS } from './sim-types';
export type {
  SimTimings,
  SimulatorOptions,
  FaultConfig,
  CallLogEntry,
  CallLogFilter,
  SeedInstanceInput,
  AppHealth,
} from './sim-types';

export interface RunningSimulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + '/gpu-instance/openapi/v1' */
  baseUrl: string;
  apiKey: string;
  sim: Simulator;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const apiKey = opts.apiKey ?? 'sk_sim_test';
  const sim = new Simulator(opts);
  await sim.app.listen(host);
  const server = new SimHttpServer(sim, apiKey, opts.controlToken);
  try {
    await server.listen(opts.port ?? 0, host);
  } catch (err) {
    await sim.app.close();
    throw err;
  }
  let closed = false;
  return {
    url: server.url,
    baseUrl: server.url + API_BASE_PATH,
    apiKey,
    sim,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([server.close(), sim.app.close()]);
    },
  };
}
