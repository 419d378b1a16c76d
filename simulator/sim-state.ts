/**
 * The simulated account: instances, jobs and the GPU pool. Every public method first settles all
 * instances to the clock's now, then applies the operation, so results depend only on the clock.
 */
import { SimCatalogue, SimProduct } from './sim-catalogue';
import { SimClock, SimRng } from './sim-clock';
import { SimError, insufficientResource, invalidStateChange } from './sim-errors';
import { ALLOWED_FROM, HOLDS_GPUS, buildPlan, planEnd, planKindForStatus, settlePlan } from './sim-lifecycle';
import { AppHealth, Plan, SimInstance, SimJob, SimTimings, SimulatorOptions } from './sim-types';

export class SimState {
  readonly instances = new Map<string, SimInstance>();
  readonly jobs: SimJob[] = [];
  catalogue = new SimCatalogue();
  startAfterReclaim: 'insufficient' | 'allow';
  instanceLimit = Infinity;
  private seq = 0;
  private failNextMigrationGlobal = false;
  private readonly failNextMigrationFor = new Set<string>();

  constructor(
    readonly clock: SimClock,
    readonly rng: SimRng,
    readonly timings: SimTimings,
    readonly notFoundStatus: 404 | 400,
    options: SimulatorOptions,
  ) {
    this.startAfterReclaim = options.startAfterReclaim ?? 'insufficient';
  }

  now(): number {
    return this.clock.now();
  }

  reset(): void {
    this.instances.clear();
    this.jobs.length = 0;
    this.catalogue = new SimCatalogue();
    this.failNextMigrationGlobal = false;
    this.failNextMigrationFor.clear();
    this.instanceLimit = Infinity;
  }

  /** Brings every instance up to the clock and drops removed ones whose list TTL has passed. */
  settleAll(): number {
    const now = this.now();
    for (const inst of this.instances.values()) {
      const done = settlePlan(inst, now);
      if (done) this.complete(inst, done.plan, done.at);
      if (inst.status === 'removed' && inst.removedAt + this.timings.removedListTtl <= now) {
        this.instances.delete(inst.id);
      }
    }
    return now;
  }

  /** A live (not removed) instance, or the configured not-found error. */
  mustGet(id: unknown): SimInstance {
    const inst = typeof id === 'string' ? this.instances.get(id) : undefined;
    if (!inst || inst.status === 'removed') {
      throw new SimError(this.notFoundStatus, 'RESOURCE_NOT_FOUND', 'instance not found');
    }
    return inst;
  }

  newId(): string {
    let id = this.rng.hex(16);
    while (this.instances.has(id)) id = this.rng.hex(16);
    return id;
  }

  /** Creates the record (no validation: create and seed validate before calling). */
  addInstance(
    fields: Partial<SimInstance> & Pick<SimInstance, 'clusterId' | 'productId' | 'gpuNum'>,
  ): SimInstance {
    const now = this.now();
    // Explicit undefineds in `fields` must not wipe out the defaults below.
    const given = Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined),
    ) as Partial<SimInstance>;
    const inst: SimInstance = {
      seq: ++this.seq,
      name: '',
      rootfsSize: 10,
      imageUrl: '',
      imageAuthId: '',
      command: '',
      entrypoint: '',
      kind: 'gpu',
      billingMode: 'onDemand',
      envs: [],
      ports: [],
      networkStorages: [],
      status: 'toCreate',
      spotStatus: '',
      spotReclaimAt: 0,
      nodeReclaimed: false,
      holdsCapacity: false,
      nodeId: `node-${this.rng.hex(8)}`,
      plan: null,
      createdAt: now,
      startedAt: 0,
      stoppedAt: 0,
      removedAt: 0,
      endTime: 0,
      jobIds: [],
      appHealth: 'healthy',
      ...given,
      clusterId: fields.clusterId,
      productId: fields.productId,
      gpuNum: fields.gpuNum,
      id: fields.id ?? this.newId(),
    };
    this.instances.set(inst.id, inst);
    return inst;
  }

  product(inst: SimInstance): SimProduct {
    return this.catalogue.product(inst.productId)!;
  }

  /** Takes GPUs from the instance's pool; false when not enough are free. */
  takeGpus(inst: SimInstance): boolean {
    const p = this.product(inst);
    if (p.capacity < inst.gpuNum) return false;
    p.capacity -= inst.gpuNum;
    inst.holdsCapacity = true;
    return true;
  }

  releaseGpus(inst: SimInstance): void {
    if (!inst.holdsCapacity) return;
    this.product(inst).capacity += inst.gpuNum;
    inst.holdsCapacity = false;
  }

  /** Starts a plan and shows its first status straight away. */
  begin(inst: SimInstance, plan: Plan): void {
    inst.plan = plan;
    const done = settlePlan(inst, plan.startedAt);
    if (done) this.complete(inst, done.plan, done.at);
  }

  start(id: unknown): { instanceId: string; state: string } {
    const now = this.settleAll();
    const inst = this.mustGet(id);
    if (!ALLOWED_FROM.start.includes(inst.status)) throw invalidStateChange();
    if (inst.nodeReclaimed && this.startAfterReclaim === 'insufficient') throw insufficientResource();
    if (!this.takeGpus(inst)) throw insufficientResource();
    this.begin(inst, buildPlan('start', this.timings, now));
    return { instanceId: inst.id, state: inst.status };
  }

  stop(id: unknown): { instanceId: string; state: string } {
    const now = this.settleAll();
    const inst = this.mustGet(id);
    if (!ALLOWED_FROM.stop.includes(inst.status)) throw invalidStateChange();
    this.releaseGpus(inst);
    this.begin(inst, buildPlan('stop', this.timings, now));
    return { instanceId: inst.id, state: inst.status };
  }

  restart(id: unknown): Record<string, never> {
    const now = this.settleAll();
    const inst = this.mustGet(id);
    if (!ALLOWED_FROM.restart.includes(inst.status)) throw invalidStateChange();
    this.begin(inst, buildPlan('restart', this.timings, now));
    return {};
  }

  delete(id: unknown): Record<string, never> {
    const now = this.settleAll();
    const inst = this.mustGet(id);
    if (inst.billingMode === 'monthly') {
      throw new SimError(
        400,
        'PREPAID_INSTANCE_NOT_SUPPORT_RELEASE',
        'prepaid instance does not support release',
      );
    }
    if (inst.plan?.kind === 'delete') return {};
    for (const job of this.jobsOf(inst)) if (now < job.endsAt) job.brokenAt = now;
    this.releaseGpus(inst);
    this.begin(inst, buildPlan('delete', this.timings, now));
    return {};
  }

  migrate(id: unknown): Record<string, never> {
    const now = this.settleAll();
    const inst = this.mustGet(id);
    if (!ALLOWED_FROM.migrate.includes(inst.status)) throw invalidStateChange();
    if (!this.takeGpus(inst)) {
      throw new SimError(400, 'MIGRATE_INSUFFICIENT_RESOURCE', 'insufficient resource for migration');
    }
    const plan = buildPlan('migrate', this.timings, now);
    plan.fails = this.failNextMigrationGlobal || this.failNextMigrationFor.has(inst.id);
    this.failNextMigrationGlobal = false;
    this.failNextMigrationFor.delete(inst.id);
    const job: SimJob = {
      id: this.rng.hex(16),
      type: 'instanceMigrate',
      instanceId: inst.id,
      createdAt: now,
      endsAt: planEnd(plan),
      fails: plan.fails,
    };
    this.jobs.push(job);
    inst.jobIds.push(job.id);
    inst.statusError = undefined;
    this.begin(inst, plan);
    return {};
  }

  /** Makes the next migration (of one instance, or of any) fail; also fails one in progress. */
  failNextMigration(id?: string): void {
    this.settleAll();
    const inst = id === undefined ? undefined : this.instances.get(id);
    if (inst?.plan?.kind === 'migrate') {
      inst.plan.fails = true;
      for (const job of this.jobsOf(inst)) if (job.endsAt > this.now()) job.fails = true;
      return;
    }
    if (id === undefined) this.failNextMigrationGlobal = true;
    else this.failNextMigrationFor.add(id);
  }

  /** Platform-initiated spot reclaim of a running instance (API-NOTES §4.3). */
  reclaimSpot(id: string): void {
    const now = this.settleAll();
    const inst = this.mustGet(id);
    if (inst.status !== 'running' || inst.plan) throw invalidStateChange();
    const plan = buildPlan('reclaim', this.timings, now);
    inst.spotReclaimAt = planEnd(plan);
    this.begin(inst, plan);
  }

  setAppHealth(id: string, health: AppHealth): void {
    this.mustGet(id).appHealth = health;
  }

  jobsOf(inst: SimInstance): SimJob[] {
    return this.jobs.filter((j) => inst.jobIds.includes(j.id));
  }

  /** Seeds one instance in any status; transitional statuses continue from that phase. */
  seedStatus(inst: SimInstance, status: string, consume: boolean | undefined): void {
    const now = this.now();
    if (consume !== false && HOLDS_GPUS.has(status)) this.takeGpus(inst);
    const kind = planKindForStatus(status);
    if (kind && status !== 'removed') {
      const plan = buildPlan(kind, this.timings, now, status);
      if (kind === 'migrate') this.migrateJobFor(inst, plan);
      this.begin(inst, plan);
      return;
    }
    inst.status = status;
    if (status === 'running') inst.startedAt = now;
    if (status === 'exited') inst.stoppedAt = now;
    if (status === 'removed') inst.removedAt = now;
  }

  private migrateJobFor(inst: SimInstance, plan: Plan): void {
    const job: SimJob = {
      id: this.rng.hex(16),
      type: 'instanceMigrate',
      instanceId: inst.id,
      createdAt: plan.startedAt,
      endsAt: planEnd(plan),
      fails: false,
    };
    this.jobs.push(job);
    inst.jobIds.push(job.id);
  }

  /** Side effects of a finished plan, applied at the simulated time it finished. */
  private complete(inst: SimInstance, plan: Plan, at: number): void {
    switch (plan.kind) {
      case 'create':
      case 'start':
      case 'restart':
        inst.startedAt = at;
        break;
      case 'stop':
        inst.stoppedAt = at;
        break;
      case 'delete':
        inst.removedAt = at;
        break;
      case 'reclaim':
        inst.spotStatus = 'terminated';
        inst.nodeReclaimed = true;
        // The GPUs went back to the platform, not to this account's pool.
        inst.holdsCapacity = false;
        inst.stoppedAt = at;
        break;
      case 'migrate':
        if (plan.fails) {
          this.releaseGpus(inst);
          inst.statusError = { state: 'migrating', message: 'migration job failed' };
        } else {
          inst.nodeId = `node-${this.rng.hex(8)}`;
          inst.nodeReclaimed = false;
          inst.spotReclaimAt = 0;
          inst.spotStatus = inst.billingMode === 'spot' ? 'running' : '';
          inst.startedAt = at;
        }
        break;
    }
  }
}
