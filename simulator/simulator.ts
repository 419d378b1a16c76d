/**
 * The in-process control surface of the simulator. /__sim exposes the same operations over HTTP.
 */
import { SimAppServer } from './sim-app-server';
import { SimCallLog } from './sim-call-log';
import { SimClock, SimRng } from './sim-clock';
import { SimFaults } from './sim-faults';
import { seedOne } from './sim-seed';
import { SimState } from './sim-state';
import {
  AppHealth,
  CallLogEntry,
  CallLogFilter,
  DEFAULT_TIMINGS,
  FaultConfig,
  SeedInstanceInput,
  SimTimings,
  SimulatorOptions,
} from './sim-types';
import { inventoryState, toWireInstance, toWireJob } from './sim-wire';

export const API_BASE_PATH = '/gpu-instance/openapi/v1';

export type WireInstance = Record<string, unknown> & { id: string; status: string };

export class Simulator {
  readonly clock: SimClock;
  readonly state: SimState;
  readonly faults: SimFaults;
  readonly calls = new SimCallLog();
  readonly app: SimAppServer;
  readonly timings: SimTimings;
  appSlowMs: number;

  constructor(readonly options: SimulatorOptions = {}) {
    const seed = options.seed ?? 1;
    this.clock = new SimClock(options.manualClock ? 0 : (options.speed ?? 1));
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.state = new SimState(
      this.clock,
      new SimRng(seed),
      this.timings,
      options.notFoundStatus ?? 404,
      options,
    );
    this.faults = new SimFaults(new SimRng(seed ^ 0x5eed));
    this.appSlowMs = options.appSlowMs ?? 3_000;
    this.app = new SimAppServer(this.state, () => this.appSlowMs);
  }

  /** Simulated epoch milliseconds. */
  now(): number {
    return this.clock.now();
  }

  advance(ms: number): void {
    this.clock.advance(ms);
    this.state.settleAll();
  }

  setSpeed(factor: number): void {
    this.clock.setSpeed(factor);
  }

  seedInstance(input: SeedInstanceInput = {}): WireInstance {
    return this.wire(seedOne(this.state, input, this.state.instances.size).id)!;
  }

  /** n instances sharing `partial`; names get a numeric suffix when `partial.name` is set. */
  seedInstances(n: number, partial: SeedInstanceInput = {}): WireInstance[] {
    const out: WireInstance[] = [];
    for (let i = 0; i < n; i++) {
      const name = partial.name === undefined ? undefined : n > 1 ? `${partial.name}-${i + 1}` : partial.name;
      out.push(
        this.wire(
          seedOne(
            this.state,
            { ...partial, id: n > 1 ? undefined : partial.id, name },
            this.state.instances.size,
          ).id,
        )!,
      );
    }
    return out;
  }

  /** The instance as GET /gpu/instance would show it (removed ones included until purged). */
  getInstance(id: string): WireInstance | undefined {
    this.state.settleAll();
    return this.wire(id);
  }

  listInstances(): WireInstance[] {
    this.state.settleAll();
    return [...this.state.instances.values()].sort((a, b) => b.seq - a.seq).map((i) => this.wire(i.id)!);
  }

  jobs(): Record<string, unknown>[] {
    const now = this.state.settleAll();
    return this.state.jobs.map((j) => toWireJob(j, now, this.app.baseUrl));
  }

  injectFaults(faults: FaultConfig): void {
    const paths = faults.paths?.map((p) =>
      p.startsWith(API_BASE_PATH) ? p.slice(API_BASE_PATH.length) || '/' : p,
    );
    this.faults.inject(paths ? { ...faults, paths } : faults);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  reclaimSpot(id: string): void {
    this.state.reclaimSpot(id);
  }

  failNextMigration(id?: string): void {
    this.state.failNextMigration(id);
  }

  /** Sets free GPUs for a product in a cluster; a product name without a cluster sets it everywhere. */
  setCapacity(clusterRef: string | undefined, productRef: string, gpus: number): void {
    if (!(gpus >= 0)) throw new Error('gpus must be >= 0');
    this.state.settleAll();
    const matches = this.state.catalogue.resolveProducts(productRef, clusterRef || undefined);
    if (!matches.length) throw new Error(`no product ${productRef}${clusterRef ? ` in ${clusterRef}` : ''}`);
    for (const p of matches) p.capacity = Math.floor(gpus);
  }

  capacity(): {
    clusterId: string;
    productId: string;
    productName: string;
    gpus: number;
    inventoryState: string;
  }[] {
    this.state.settleAll();
    return this.state.catalogue.products.map((p) => ({
      clusterId: p.clusterId,
      productId: p.id,
      productName: p.name,
      gpus: p.capacity,
      inventoryState: inventoryState(p.capacity),
    }));
  }

  setAppHealth(id: string, health: AppHealth): void {
    if (!['healthy', 'unhealthy', 'slow'].includes(health)) throw new Error(`unknown health ${health}`);
    this.state.settleAll();
    this.state.setAppHealth(id, health);
  }

  setInstanceLimit(limit: number | null): void {
    this.state.instanceLimit = limit === null ? Infinity : limit;
  }

  setStartAfterReclaim(mode: 'insufficient' | 'allow'): void {
    this.state.startAfterReclaim = mode;
  }

  callLog(filter?: CallLogFilter): CallLogEntry[] {
    return this.calls.list(filter);
  }

  clearCallLog(): void {
    this.calls.clear();
  }

  /** Back to the initial catalogue with no instances, jobs, faults or logged calls. */
  reset(): void {
    this.state.reset();
    this.state.startAfterReclaim = this.options.startAfterReclaim ?? 'insufficient';
    this.faults.clear();
    this.calls.clear();
  }

  private wire(id: string): WireInstance | undefined {
    const inst = this.state.instances.get(id);
    return inst ? (toWireInstance(inst, this.state.catalogue, this.app.baseUrl) as WireInstance) : undefined;
  }
}
