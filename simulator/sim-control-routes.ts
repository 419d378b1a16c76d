/** The /__sim control API: JSON over HTTP mirroring the Simulator's in-process methods. */
import { Simulator } from './simulator';
import { AppHealth, FaultConfig, SeedInstanceInput } from './sim-types';

type Body = Record<string, unknown>;
type ControlHandler = (query: Record<string, string>, body: Body) => unknown;

const num = (v: unknown, name: string): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${name} must be a number`);
  return n;
};

export function buildControlRoutes(sim: Simulator): Record<string, ControlHandler> {
  return {
    'GET /__sim/state': () => ({
      now: sim.now(),
      speed: sim.clock.getSpeed(),
      timings: sim.timings,
      faults: sim.faults.current(),
      instances: sim.state.instances.size,
      appBaseUrl: sim.app.baseUrl,
    }),
    'POST /__sim/reset': () => (sim.reset(), {}),
    'POST /__sim/seed': (_q, b) => ({
      instances: sim.seedInstances(
        b.n === undefined ? 1 : num(b.n, 'n'),
        (b.instance ?? {}) as SeedInstanceInput,
      ),
    }),
    'GET /__sim/instances': (q) =>
      q.id ? { instance: sim.getInstance(q.id) ?? null } : { instances: sim.listInstances() },
    'GET /__sim/jobs': () => ({ jobs: sim.jobs() }),
    'POST /__sim/advance': (_q, b) => (sim.advance(num(b.ms, 'ms')), { now: sim.now() }),
    'POST /__sim/speed': (_q, b) => (
      sim.setSpeed(num(b.factor, 'factor')),
      { now: sim.now(), speed: sim.clock.getSpeed() }
    ),
    'GET /__sim/faults': () => sim.faults.current(),
    'POST /__sim/faults': (_q, b) => (sim.injectFaults(b as FaultConfig), sim.faults.current()),
    'DELETE /__sim/faults': () => (sim.clearFaults(), {}),
    'POST /__sim/reclaim': (_q, b) => (
      sim.reclaimSpot(String(b.instanceId)),
      { instance: sim.getInstance(String(b.instanceId)) }
    ),
    'POST /__sim/fail-next-migration': (_q, b) => (
      sim.failNextMigration(b.instanceId === undefined ? undefined : String(b.instanceId)),
      {}
    ),
    'GET /__sim/capacity': () => ({ capacity: sim.capacity() }),
    'POST /__sim/capacity': (_q, b) => {
      sim.setCapacity(
        b.cluster === undefined ? undefined : String(b.cluster),
        String(b.product),
        num(b.gpus, 'gpus'),
      );
      return { capacity: sim.capacity() };
    },
    'POST /__sim/app-health': (_q, b) => (sim.setAppHealth(String(b.instanceId), b.health as AppHealth), {}),
    'POST /__sim/instance-limit': (_q, b) => (
      sim.setInstanceLimit(b.limit === null ? null : num(b.limit, 'limit')),
      {}
    ),
    'POST /__sim/start-after-reclaim': (_q, b) => (
      sim.setStartAfterReclaim(b.mode === 'allow' ? 'allow' : 'insufficient'),
      {}
    ),
    'GET /__sim/calls': (q) => ({
      calls: sim.callLog({
        method: q.method,
        path: q.path,
        status: q.status === undefined ? undefined : Number(q.status),
      }),
    }),
    'DELETE /__sim/calls': () => (sim.clearCallLog(), {}),
  };
}
