/** A handful of instances in different states, for demo mode and manual poking. */
import { Simulator, WireInstance } from './simulator';

export function seedDemo(sim: Simulator): WireInstance[] {
  return [
    sim.seedInstance({
      name: 'demo-llm-api',
      status: 'running',
      productName: 'A100 80GB',
      clusterId: 'us-ca-6',
      ports: '8000/http,22/tcp',
    }),
    sim.seedInstance({
      name: 'demo-notebook',
      status: 'running',
      productName: 'RTX 4090 24GB',
      clusterId: 'as-sgp-2',
      ports: '8888/http',
      appHealth: 'unhealthy',
    }),
    sim.seedInstance({
      name: 'demo-batch',
      status: 'exited',
      productName: 'RTX 3090 24GB',
      clusterId: 'eu-de-1',
    }),
    sim.seedInstance({
      name: 'demo-spot-trainer',
      status: 'running',
      billingMode: 'spot',
      productName: 'RTX 4090 24GB',
      clusterId: 'cn-hk-1',
    }),
    sim.seedInstance({
      name: 'demo-spot-reclaimed',
      status: 'exited',
      billingMode: 'spot',
      productName: 'H100 80GB',
      clusterId: 'us-ca-6',
      spotReclaimAt: sim.now() - 600_000,
    }),
    sim.seedInstance({
      name: 'demo-new-worker',
      status: 'creating',
      productName: 'RTX 4090 24GB',
      clusterId: 'as-in-1',
    }),
  ];
}
