/**
 * Domain types for Novita, as the rest of the service sees them: numbers are numbers,
 * times are epoch milliseconds, prices are US dollars per hour. Wire types live in novita-wire.types.ts.
 */

/** Novita's status values; an open set (unknown values are kept, never rejected). */
export type NovitaStatus =
  | 'pending'
  | 'toCreate'
  | 'creating'
  | 'pulling'
  | 'running'
  | 'toStart'
  | 'starting'
  | 'toStop'
  | 'stopping'
  | 'exited'
  | 'toRestart'
  | 'restarting'
  | 'toRemove'
  | 'removing'
  | 'removed'
  | 'toReset'
  | 'resetting'
  | 'migrating'
  | 'freezing'
  | (string & {});

export type BillingMode = 'spot' | 'onDemand' | 'monthly';

export interface PortMapping {
  port: number;
  /** Public address Novita assigned (a URL for http ports); may be empty before running. */
  endpoint: string;
  type: 'http' | 'tcp' | (string & {});
}

export interface NovitaInstance {
  id: string;
  name: string;
  status: NovitaStatus;
  clusterId: string;
  clusterName?: string;
  productId: string;
  productName: string;
  imageUrl: string;
  imageAuthId?: string;
  command?: string;
  cpuNum: number;
  memoryGb: number;
  gpuNum: number;
  rootfsSize: number;
  billingMode: BillingMode | '';
  portMappings: PortMapping[];
  envs: { key: string; value: string }[];
  kind?: string;
  /** '' when not a spot instance. */
  spotStatus: string;
  /** Epoch ms of the spot reclaim, or null when none happened ("0" on the wire). */
  spotReclaimTime: number | null;
  statusError?: { state?: string; message?: string };
  createdAt?: number;
  startedAt?: number;
  stoppedAt?: number;
  lastStartedAt?: number;
  lastStoppedAt?: number;
  /** Subscription end (epoch ms), null for pay-as-you-go. */
  endTime: number | null;
  jobs: { id: string; type: string }[];
}

export interface InstanceListFilter {
  name?: string;
  productName?: string;
  status?: string;
}

export interface InstancePage {
  instances: NovitaInstance[];
  total: number;
}

export interface CreateInstanceSpec {
  name?: string;
  productId: string;
  gpuNum: number;
  rootfsSize: number;
  imageUrl: string;
  imageAuth?: string;
  imageAuthId?: string;
  ports?: { port: number; type: 'http' | 'tcp' }[];
  envs?: { key: string; value: string }[];
  command?: string;
  clusterId?: string;
  billingMode?: BillingMode;
  kind?: 'gpu' | 'cpu';
  month?: number;
}

export interface ProductFilter {
  clusterId?: string;
  gpuNum?: number;
  productName?: string;
  billingMethod?: BillingMode;
  minRootFSSize?: number;
}

export interface GpuProduct {
  id: string;
  name: string;
  cpuPerGpu: number;
  memoryPerGpu: number;
  diskPerGpu: number;
  availableDeploy: boolean;
  minRootFS: number;
  maxRootFS: number;
  /** Cluster names as Novita reports them, e.g. "AS-SGP-02 (Singapore)". */
  regions: string[];
  /** On-demand price, USD per hour. */
  onDemandPrice: number;
  /** Spot price, USD per hour; null when spot is not offered. */
  spotPrice: number | null;
  monthlyPrices: { month: number; price: number }[];
  billingMethods: BillingMode[];
  inventoryState?: string;
}

export interface Cluster {
  id: string;
  name: string;
  availableGpuTypes: string[];
  supportNetworkStorage: boolean;
  supportInstanceNetwork: boolean;
}

export interface Template {
  id: string;
  name: string;
  imageUrl: string;
  imageAuthId?: string;
  ports: { port: number; type: 'http' | 'tcp' }[];
  envs: { key: string; value: string }[];
  command?: string;
  rootfsSize?: number;
}

export interface RegistryAuth {
  id: string;
  name: string;
  username: string;
  password: string;
}

export interface JobFilter {
  type?: string;
  state?: string;
  jobId?: string;
  /** Epoch ms. */
  startTime?: number;
  endTime?: number;
}

export interface NovitaJob {
  id: string;
  type: string;
  instanceId?: string;
  /** pulling | running | fail | success | break (open set). */
  state: string;
  error?: string;
  createdAt?: number;
}
