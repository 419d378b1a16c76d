/** The Novita API routes, relative to /gpu-instance/openapi/v1. Bodies are bare (not wrapped). */
import { createInstance } from './sim-create';
import { SimError, badParam } from './sim-errors';
import { SimState } from './sim-state';
import { jobState, toWireInstance, toWireJob, toWireProduct, toWireTemplate } from './sim-wire';

export type Query = Record<string, string>;
export interface ApiResult {
  status: number;
  body: unknown;
}
type Handler = (query: Query, body: unknown) => unknown;

const instanceIdOf = (body: unknown): unknown =>
  typeof body === 'object' && body !== null ? (body as Record<string, unknown>).instanceId : undefined;

function int(query: Query, key: string): number | undefined {
  const raw = query[key];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badParam(`${key} must be a non-negative integer`);
  return n;
}

/** pageNum 0 and 1 both mean the first page; no pageSize (or 0) means everything (API-NOTES §3.1). */
export function paginate<T>(items: T[], query: Query): T[] {
  const pageSize = int(query, 'pageSize') ?? 0;
  if (pageSize === 0) return items;
  const pageNum = Math.max(1, int(query, 'pageNum') ?? 1);
  return items.slice((pageNum - 1) * pageSize, pageNum * pageSize);
}

const contains = (value: string, needle: string | undefined): boolean =>
  !needle || value.toLowerCase().includes(needle.toLowerCase());

export function buildApiRoutes(state: SimState, appBaseUrl: () => string): Record<string, Handler> {
  const wire = (id: string): unknown =>
    toWireInstance(state.instances.get(id)!, state.catalogue, appBaseUrl());
  return {
    'GET /gpu/instances': (q) => {
      state.settleAll();
      const matches = [...state.instances.values()]
        .filter(
          (i) =>
            contains(i.name, q.name) &&
            contains(state.product(i).name, q.productName) &&
            (!q.status || i.status === q.status),
        )
        .sort((a, b) => b.seq - a.seq);
      return { instances: paginate(matches, q).map((i) => wire(i.id)), total: matches.length };
    },
    'GET /gpu/instance': (q) => {
      state.settleAll();
      if (!q.instanceId) throw badParam('instanceId is required');
      return wire(state.mustGet(q.instanceId).id);
    },
    'POST /gpu/instance/create': (_q, body) => createInstance(state, body),
    'POST /gpu/instance/start': (_q, body) => state.start(requireId(body)),
    'POST /gpu/instance/stop': (_q, body) => state.stop(requireId(body)),
    'POST /gpu/instance/restart': (_q, body) => state.restart(requireId(body)),
    'POST /gpu/instance/delete': (_q, body) => state.delete(requireId(body)),
    'POST /gpu/instance/migrate': (_q, body) => state.migrate(requireId(body)),
    'GET /products': (q) => {
      state.settleAll();
      const gpuNum = int(q, 'gpuNum') ?? 0;
      const minCpu = int(q, 'minCpuPerGpu') ?? 0;
      const minMem = int(q, 'minMemoryPerGpu') ?? 0;
      const minRootFs = int(q, 'minRootFSSize') ?? 0;
      if (q.billingMethod && !['onDemand', 'monthly', 'spot'].includes(q.billingMethod)) {
        throw badParam('billingMethod must be onDemand, monthly or spot');
      }
      const data = state.catalogue.products
        .filter(
          (p) =>
            (!q.clusterId || p.clusterId === q.clusterId) &&
            contains(p.name, q.productName) &&
            p.cpuPerGpu >= minCpu &&
            p.memoryPerGpu >= minMem &&
            p.maxRootFS >= minRootFs &&
            (!q.billingMethod || state.catalogue.billingMethods(p).includes(q.billingMethod as 'spot')),
        )
        .map((p) => toWireProduct(p, state.catalogue, gpuNum));
      return { data };
    },
    'GET /clusters': () => ({
      data: state.catalogue.clusters.map((c) => ({
        id: c.id,
        name: c.name,
        availableGpuType: [
          ...new Set(state.catalogue.products.filter((p) => p.clusterId === c.id).map((p) => p.name)),
        ],
        supportNetworkStorage: c.supportNetworkStorage,
        supportInstanceNetwork: c.supportInstanceNetwork,
      })),
    }),
    'GET /template': (q) => {
      const t = q.templateId ? state.catalogue.template(q.templateId) : undefined;
      if (!t) throw new SimError(400, 'TEMPLATE_NOT_FOUND', 'template not found');
      return { template: toWireTemplate(t) };
    },
    'GET /repository/auths': () => ({ data: state.catalogue.repositoryAuths.map((a) => ({ ...a })) }),
    'GET /jobs': (q) => {
      const now = state.settleAll();
      const start = int(q, 'startTime') ?? 0;
      const end = int(q, 'endTime') ?? 0;
      const matches = state.jobs
        .filter(
          (j) =>
            (!q.jobId || j.id === q.jobId) &&
            (!q.type || j.type === q.type) &&
            (!q.state || jobState(j, now) === q.state) &&
            (!start || j.createdAt >= start * 1000) &&
            (!end || j.createdAt <= end * 1000),
        )
        .sort((a, b) => b.createdAt - a.createdAt);
      return {
        jobs: paginate(matches, q).map((j) => toWireJob(j, now, appBaseUrl())),
        total: matches.length,
      };
    },
  };
}

function requireId(body: unknown): unknown {
  const id = instanceIdOf(body);
  if (typeof id !== 'string' || !id) throw badParam('instanceId is required');
  return id;
}
