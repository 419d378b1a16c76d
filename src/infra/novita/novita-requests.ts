import { CreateInstanceSpec, InstanceListFilter, JobFilter, ProductFilter } from './novita.types';
import {
  WireCreateInstanceRequest,
  WireListInstancesQuery,
  WireListJobsQuery,
  WireListProductsQuery,
} from './novita-wire.types';

/** Builders for what we send to Novita: request bodies and query strings in its wire format. */

/** Drops undefined and '' values so they are not sent as empty query parameters. */
function compact<T extends object>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined && v !== null && v !== '') out[k] = v;
  }
  return out as T;
}

export function toWireCreateRequest(spec: CreateInstanceSpec): WireCreateInstanceRequest {
  return compact<WireCreateInstanceRequest>({
    name: spec.name,
    productId: spec.productId,
    gpuNum: spec.gpuNum,
    rootfsSize: spec.rootfsSize,
    imageUrl: spec.imageUrl,
    kind: spec.kind ?? 'gpu',
    imageAuth: spec.imageAuth,
    imageAuthId: spec.imageAuthId,
    // Create takes a comma-joined string (edit takes objects; templates group by type).
    ports:
      spec.ports && spec.ports.length > 0
        ? spec.ports.map((p) => `${p.port}/${p.type}`).join(',')
        : undefined,
    envs:
      spec.envs && spec.envs.length > 0 ? spec.envs.map((e) => ({ key: e.key, value: e.value })) : undefined,
    command: spec.command,
    clusterId: spec.clusterId,
    billingMode: spec.billingMode,
    month: spec.month,
  });
}

export function toWireListInstancesQuery(
  pageNum: number,
  pageSize: number,
  filter: InstanceListFilter = {},
): WireListInstancesQuery {
  return compact<WireListInstancesQuery>({
    pageNum,
    pageSize,
    name: filter.name,
    productName: filter.productName,
    status: filter.status,
  });
}

/** billingMethod is passed through whenever given: Novita's default filter may hide spot-only products. */
export function toWireListProductsQuery(filter: ProductFilter = {}): WireListProductsQuery {
  return compact<WireListProductsQuery>({
    clusterId: filter.clusterId,
    gpuNum: filter.gpuNum,
    productName: filter.productName,
    minRootFSSize: filter.minRootFSSize,
    billingMethod: filter.billingMethod,
  });
}

export function toWireListJobsQuery(
  filter: JobFilter = {},
  pageNum: number,
  pageSize: number,
): WireListJobsQuery {
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.floor(ms / 1000));
  return compact<WireListJobsQuery>({
    pageNum,
    pageSize,
    jobId: filter.jobId,
    state: filter.state,
    type: filter.type,
    startTime: seconds(filter.startTime),
    endTime: seconds(filter.endTime),
  });
}
