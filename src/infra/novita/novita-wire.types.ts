/**
 * Novita's v1 payloads as they travel on the wire, checked against simulator/novita-openapi/openapi.yaml
 * (components.schemas) and widened where API-NOTES §6 records live deviations: numbers that arrive as
 * strings, "" billing/spot values, statuses outside the documented enum, `node` as object or array.
 * Every field a response may omit is optional here; the mappers in novita-mappers.ts turn these into
 * domain types and own the defaulting.
 */

/** An integer that Novita sends as a JSON number or as a decimal string ("4", "67000"). */
export type WireNumber = number | string;

/** Unix seconds as a decimal string ("1713162260"); "0", "" and "-1" mean "none". */
export type WireUnixSeconds = string | number;

/** Error body: [Y] has {message, details}; the inferred live shape is {code, reason, message, metadata}. */
export interface WireErrorBody {
  code?: number | string;
  reason?: string;
  message?: string;
  error?: string;
  details?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export interface WirePortMapping {
  port?: WireNumber | null;
  endpoint?: string | null;
  type?: string | null;
}

export interface WireEnv {
  key?: string | null;
  value?: string | null;
}

export interface WireVolumeMount {
  type?: string | null;
  /** String in the yaml and list docs, integer in the get docs. */
  size?: WireNumber | null;
  id?: string | null;
  mountPath?: string | null;
}

/** schemas.InstanceInfo, plus the timestamp fields of the older docs and [T]. */
export interface WireInstance {
  id: string;
  name?: string | null;
  clusterId?: string | null;
  clusterName?: string | null;
  /** Open set: the yaml enum lacks the live value "pending". */
  status?: string | null;
  imageUrl?: string | null;
  imageAuthId?: string | null;
  command?: string | null;
  entrypoint?: string | null;
  cpuNum?: WireNumber | null;
  /** GB, a string in the yaml. */
  memory?: WireNumber | null;
  gpuNum?: WireNumber | null;
  productId?: string | null;
  productName?: string | null;
  rootfsSize?: WireNumber | null;
  portMappings?: WirePortMapping[] | null;
  volumeMounts?: WireVolumeMount[] | null;
  statusError?: { state?: string | null; message?: string | null } | null;
  envs?: WireEnv[] | null;
  kind?: string | null;
  /** onDemand | monthly | spot, and "" live. */
  billingMode?: string | null;
  /** Subscription end, Unix seconds; "-1" for pay-as-you-go. */
  endTime?: WireUnixSeconds | null;
  /** running | notified | reclaiming | terminated, and "" for non-spot instances. */
  spotStatus?: string | null;
  /** "0" until a reclaim happens. */
  spotReclaimTime?: WireUnixSeconds | null;
  network?: { id?: string | null; ip?: string | null } | null;
  node?: Record<string, unknown> | Record<string, unknown>[] | null;
  freeStorageSize?: WireNumber | null;
  keepDataDay?: WireNumber | null;
  jobs?: { id?: string | null; Id?: string | null; type?: string | null }[] | null;
  createdAt?: WireUnixSeconds | null;
  startedAt?: WireUnixSeconds | null;
  stoppedAt?: WireUnixSeconds | null;
  lastStartedAt?: WireUnixSeconds | null;
  lastStoppedAt?: WireUnixSeconds | null;
  connectComponentSSH?: Record<string, unknown> | null;
  connectComponentWebTerminal?: Record<string, unknown> | null;
  connectComponentJupyter?: Record<string, unknown> | null;
  connectComponentLog?: Record<string, unknown> | null;
}

/** schemas.ListInstancesResponse. `total` is required in the yaml but missing from the docs example. */
export interface WireListInstancesResponse {
  instances?: WireInstance[] | null;
  total?: WireNumber | null;
}

/** Query of GET /gpu/instances. */
export interface WireListInstancesQuery {
  pageNum: number;
  pageSize: number;
  name?: string;
  productName?: string;
  status?: string;
}

/** schemas.CreateInstanceRequest (the fields this service sends). */
export interface WireCreateInstanceRequest {
  name?: string;
  productId: string;
  gpuNum: number;
  rootfsSize: number;
  imageUrl: string;
  kind: 'gpu' | 'cpu';
  imageAuth?: string;
  imageAuthId?: string;
  /** Comma-joined "<port>/<type>", e.g. "8888/http,22/tcp". */
  ports?: string;
  envs?: { key: string; value: string }[];
  command?: string;
  clusterId?: string;
  month?: number;
  billingMode?: 'onDemand' | 'monthly' | 'spot';
}

/** schemas.CreateInstanceResponse. */
export interface WireCreateInstanceResponse {
  id: string;
}

/** Body of start/stop/restart/delete/migrate. */
export interface WireInstanceIdRequest {
  instanceId: string;
}

/** schemas.SubscriptionPrice. Prices are integers in 1/100,000 USD. */
export interface WireSubscriptionPrice {
  price?: WireNumber | null;
  month?: WireNumber | null;
}

/** schemas.GPUProduct. */
export interface WireGpuProduct {
  id: string;
  name?: string | null;
  cpuPerGpu?: WireNumber | null;
  memoryPerGpu?: WireNumber | null;
  diskPerGpu?: WireNumber | null;
  availableDeploy?: boolean | null;
  minRootFS?: WireNumber | null;
  maxRootFS?: WireNumber | null;
  minLocalStorage?: WireNumber | null;
  maxLocalStorage?: WireNumber | null;
  /** Cluster names; the docs example shows `{}`. */
  regions?: string[] | Record<string, unknown> | null;
  /** On-demand, 1/100,000 USD per hour. */
  price?: WireNumber | null;
  /** Integer in the yaml, string in the docs; missing or 0 when spot is not offered. */
  spotPrice?: WireNumber | null;
  monthlyPrice?: WireSubscriptionPrice[] | null;
  billingMethods?: string[] | null;
  inventoryState?: string | null;
}

/** schemas.ListGPUProductsResponse. */
export interface WireListProductsResponse {
  data?: WireGpuProduct[] | null;
}

/** Query of GET /products. */
export interface WireListProductsQuery {
  clusterId?: string;
  gpuNum?: number;
  productName?: string;
  minRootFSSize?: number;
  billingMethod?: 'onDemand' | 'monthly' | 'spot';
}

/** schemas.Cluster. */
export interface WireCluster {
  id: string;
  name?: string | null;
  availableGpuType?: string[] | null;
  supportNetworkStorage?: boolean | null;
  supportInstanceNetwork?: boolean | null;
}

/** GET /clusters. */
export interface WireListClustersResponse {
  data?: WireCluster[] | null;
}

/** schemas.TemplatePort: ports grouped by type, unlike the create-instance string. */
export interface WireTemplatePort {
  type?: string | null;
  ports?: WireNumber[] | null;
}

/** schemas.Template. Note the capital `Id`. */
export interface WireTemplate {
  Id: string;
  createTime?: string | null;
  user?: string | null;
  name?: string | null;
  readme?: string | null;
  type?: string | null;
  channel?: string | null;
  image?: string | null;
  /** A registry-auth ID; "" when the image is public. */
  imageAuth?: string | null;
  startCommand?: string | null;
  rootfsSize?: WireNumber | null;
  volumes?: { type?: string; size?: WireNumber; mountPath?: string }[] | null;
  /** Grouped per the yaml; a legacy "p/type,..." string is tolerated by the mapper. */
  ports?: WireTemplatePort[] | string | null;
  envs?: WireEnv[] | null;
  tools?: { name?: string; describe?: string; port?: WireNumber; type?: string }[] | null;
}

/** schemas.GetTemplateResponse. */
export interface WireGetTemplateResponse {
  template?: WireTemplate | null;
}

/** schemas.RepositoryAuth. */
export interface WireRepositoryAuth {
  id: string;
  name?: string | null;
  username?: string | null;
  password?: string | null;
}

/** schemas.ListRepositoryAuthsResponse. */
export interface WireListRepositoryAuthsResponse {
  data?: WireRepositoryAuth[] | null;
}

/** schemas.Job. Capital `Id`; `state` is an object. */
export interface WireJob {
  Id?: string | null;
  /** Not in the yaml; tolerated in case a payload uses the lower-case spelling. */
  id?: string | null;
  user?: string | null;
  type?: string | null;
  envs?: WireEnv[] | null;
  state?: { state?: string | null; error?: string | null; message?: string | null } | null;
  logAddress?: string | null;
  createdAt?: WireUnixSeconds | null;
  instanceId?: string | null;
}

/** schemas.ListJobsResponse. */
export interface WireListJobsResponse {
  jobs?: WireJob[] | null;
  total?: WireNumber | null;
}

/** Query of GET /jobs. Times are Unix seconds. */
export interface WireListJobsQuery {
  pageNum: number;
  pageSize: number;
  jobId?: string;
  state?: string;
  type?: string;
  startTime?: number;
  endTime?: number;
}
