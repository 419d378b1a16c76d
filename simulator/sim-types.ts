/**
 * Types shared by the simulator's parts. Wire shapes follow Novita's v1 GPU instance API
 * (see simulator/novita-openapi/API-NOTES.md); internal records keep numbers and epoch milliseconds.
 */

/** Phase durations in simulated milliseconds. A zero duration skips that phase. */
export interface SimTimings {
  /** Optional `pending` phase before `toCreate` (Novita shows it live; the yaml enum lacks it). */
  pending: number;
  toCreate: number;
  creating: number;
  pulling: number;
  toStart: number;
  starting: number;
  toStop: number;
  stopping: number;
  toRestart: number;
  restarting: number;
  toRemove: number;
  removing: number;
  /** How long a `removed` instance stays in the list before it disappears. */
  removedListTtl: number;
  migrating: number;
  /** Spot reclaim: time spent with spotStatus `notified`, then `reclaiming`, before `exited`. */
  spotNotice: number;
  spotReclaiming: number;
  /** After reaching `running`, the app answers 503 for this long (a booting service). */
  appBoot: number;
}

export const DEFAULT_TIMINGS: SimTimings = {
  pending: 0,
  toCreate: 1_000,
  creating: 2_000,
  pulling: 3_000,
  toStart: 500,
  starting: 1_500,
  toStop: 500,
  stopping: 1_500,
  toRestart: 500,
  restarting: 1_500,
  toRemove: 500,
  removing: 1_000,
  removedListTtl: 5_000,
  migrating: 5_000,
  spotNotice: 0,
  spotReclaiming: 0,
  appBoot: 0,
};

export type BillingMode = 'onDemand' | 'monthly' | 'spot';
export type AppHealth = 'healthy' | 'unhealthy' | 'slow';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  timings?: Partial<SimTimings>;
  /** Clock speed factor (1 = real time); 0 freezes the clock (same as manualClock). */
  speed?: number;
  manualClock?: boolean;
  seed?: number;
  /** Status for get/operate on a missing instance: 404 (yaml) or 400 "instance not found" (docs style). */
  notFoundStatus?: 404 | 400;
  /** What `start` does on a spot instance whose node was reclaimed: fail (Novita) or start anyway. */
  startAfterReclaim?: 'insufficient' | 'allow';
  /** Real milliseconds a `slow` app waits before answering. */
  appSlowMs?: number;
  /** When set, the /__sim control API requires header `x-sim-token: <token>`. */
  controlToken?: string;
}

/** A step of a transition: the instance shows `status` (and `spotStatus`) until `endsAt`. */
export interface PlanStep {
  status: string;
  spotStatus?: string;
  endsAt: number;
}

export type PlanKind = 'create' | 'start' | 'stop' | 'restart' | 'delete' | 'migrate' | 'reclaim';

export interface Plan {
  kind: PlanKind;
  startedAt: number;
  steps: PlanStep[];
  /** Status once every step has ended. */
  final: string;
  /** Migration only: the job fails at the end and the instance stays `migrating`. */
  fails?: boolean;
}

export interface PortSpec {
  port: number;
  type: 'http' | 'tcp';
}

export interface SimInstance {
  seq: number;
  id: string;
  name: string;
  clusterId: string;
  productId: string;
  gpuNum: number;
  rootfsSize: number;
  imageUrl: string;
  imageAuthId: string;
  command: string;
  entrypoint: string;
  kind: string;
  billingMode: BillingMode | '';
  envs: { key: string; value: string }[];
  ports: PortSpec[];
  networkStorages: { id: string; mountPoint: string }[];
  /** Settled status as of the last settle(). */
  status: string;
  spotStatus: string;
  /** Epoch ms of the reclaim, or 0. */
  spotReclaimAt: number;
  /** The node lost its GPUs to a spot reclaim; `start` fails until a migration. */
  nodeReclaimed: boolean;
  holdsCapacity: boolean;
  nodeId: string;
  plan: Plan | null;
  createdAt: number;
  startedAt: number;
  stoppedAt: number;
  removedAt: number;
  endTime: number;
  jobIds: string[];
  appHealth: AppHealth;
  statusError?: { state: string; message: string };
}

export interface SimJob {
  id: string;
  type: 'instanceMigrate' | 'autoInstanceMigrate' | 'saveImage';
  instanceId: string;
  createdAt: number;
  /** running until endsAt, then success or fail. */
  endsAt: number;
  fails: boolean;
  /** Set when the instance was deleted mid-job: the job shows `break` from then on. */
  brokenAt?: number;
}

/** What seedInstance accepts: any field a test may want to pin. */
export interface SeedInstanceInput {
  id?: string;
  name?: string;
  status?: string;
  productId?: string;
  productName?: string;
  clusterId?: string;
  gpuNum?: number;
  billingMode?: BillingMode | '';
  imageUrl?: string;
  command?: string;
  ports?: PortSpec[] | string;
  envs?: { key: string; value: string }[];
  spotStatus?: string;
  /** Epoch ms; marks the instance as reclaimed (spotReclaimTime ≠ "0"). */
  spotReclaimAt?: number;
  appHealth?: AppHealth;
  /** Epoch ms; defaults to the simulator's now. */
  createdAt?: number;
  /** Whether seeding takes GPUs from the pool (default: yes when the status holds GPUs and some are free). */
  consumeCapacity?: boolean;
}

export interface FaultConfig {
  /** Probability 0..1 that a request fails with errorStatus. */
  errorRate?: number;
  errorStatus?: number;
  /** The next `count` matching requests get 429 with Retry-After. */
  burst429?: { count: number; retryAfterSeconds: number };
  latencyMs?: number;
  /** true: hang every matching request; {count}: the next `count` ones. */
  hang?: { count: number } | boolean;
  /**
   * Like hang, but the request is carried out first and only its answer is withheld (Novita applied
   * the call, the caller never heard back): the next `count` matching requests, or all with true.
   */
  holdResponse?: { count: number } | boolean;
  /** Limit the faults to these paths (relative to the API base, e.g. "/gpu/instances"; prefix match). */
  paths?: string[];
}

export interface CallLogEntry {
  method: string;
  /** Path relative to the API base ("/gpu/instances"), or the full path for anything else. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** 0 while unanswered (e.g. a hung request). */
  status: number;
  /** Simulated epoch ms. */
  at: number;
}

export interface CallLogFilter {
  method?: string;
  /** Substring of the path. */
  path?: string;
  status?: number;
}
