import { AppError, ErrorCode } from '../../src/common/errors';
import { NovitaClient } from '../../src/infra/novita/novita-client';
import {
  Cluster,
  CreateInstanceSpec,
  GpuProduct,
  InstanceListFilter,
  InstancePage,
  NovitaInstance,
  NovitaJob,
  ProductFilter,
  RegistryAuth,
  Template,
} from '../../src/infra/novita/novita.types';

type Method = Exclude<keyof NovitaClient, 'health' | 'listAllInstances'>;

export interface FakeCall {
  method: Method;
  args: unknown[];
}

/**
 * A programmable in-memory NovitaClient for unit tests. Instances do not move by themselves: tests set
 * statuses with setStatus(). Errors are queued per method with failNext(); every call is recorded.
 */
export class FakeNovitaClient extends NovitaClient {
  readonly calls: FakeCall[] = [];
  readonly instances = new Map<string, NovitaInstance>();
  products: GpuProduct[] = [];
  clusters: Cluster[] = [
    {
      id: 'as-sgp-2',
      name: 'AS-SGP-02 (Singapore)',
      availableGpuTypes: [],
      supportNetworkStorage: true,
      supportInstanceNetwork: true,
    },
    {
      id: 'cn-hk-1',
      name: 'CN-HK-01 (Hong Kong)',
      availableGpuTypes: [],
      supportNetworkStorage: true,
      supportInstanceNetwork: false,
    },
    {
      id: 'us-ca-6',
      name: 'US-CA-06 (California)',
      availableGpuTypes: [],
      supportNetworkStorage: true,
      supportInstanceNetwork: true,
    },
  ];
  templates: Template[] = [];
  registryAuths: RegistryAuth[] = [];
  /** Clusters whose create answers INSUFFICIENT_RESOURCES. */
  readonly fullClusters = new Set<string>();
  private readonly queuedErrors = new Map<Method, Error[]>();
  private seq = 0;

  failNext(
    method: Method,
    error: Error = new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'Novita is down'),
  ): void {
    this.queuedErrors.set(method, [...(this.queuedErrors.get(method) ?? []), error]);
  }

  callsTo(method: Method): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  setStatus(id: string, status: string, patch: Partial<NovitaInstance> = {}): void {
    const inst = this.mustGet(id);
    this.instances.set(id, { ...inst, status, ...patch });
  }

  seed(partial: Partial<NovitaInstance> & { id: string }): NovitaInstance {
    const inst: NovitaInstance = { ...baseInstance(partial.id), ...partial };
    this.instances.set(inst.id, inst);
    return inst;
  }

  private record(method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const queue = this.queuedErrors.get(method);
    const err = queue?.shift();
    if (err) throw err;
  }

  private mustGet(id: string): NovitaInstance {
    const inst = this.instances.get(id);
    if (!inst || inst.status === 'removed')
      throw new AppError(ErrorCode.NOT_FOUND, `instance ${id} not found`);
    return inst;
  }

  async listInstances(pageNum: number, pageSize: number, filter?: InstanceListFilter): Promise<InstancePage> {
    this.record('listInstances', pageNum, pageSize, filter);
    const all = [...this.instances.values()].filter((i) => !filter?.name || i.name.includes(filter.name));
    return { instances: all.slice((pageNum - 1) * pageSize, pageNum * pageSize), total: all.length };
  }

  async *listAllInstances(filter?: InstanceListFilter, pageSize = 100): AsyncGenerator<NovitaInstance> {
    for (let page = 1; ; page++) {
      const { instances, total } = await this.listInstances(page, pageSize, filter);
      yield* instances;
      if (instances.length < pageSize || page * pageSize >= total) return;
    }
  }

  async getInstance(instanceId: string): Promise<NovitaInstance> {
    this.record('getInstance', instanceId);
    return structuredClone(this.mustGet(instanceId));
  }

  async createInstance(spec: CreateInstanceSpec): Promise<{ id: string }> {
    this.record('createInstance', spec);
    if (spec.clusterId && this.fullClusters.has(spec.clusterId)) {
      throw new AppError(ErrorCode.INSUFFICIENT_RESOURCES, 'INSUFFICIENT_RESOURCE', {
        reason: 'INSUFFICIENT_RESOURCE',
      });
    }
    const id = `nv${++this.seq}`;
    const product = this.products.find((p) => p.id === spec.productId);
    this.seed({
      id,
      name: spec.name ?? '',
      status: 'toCreate',
      clusterId: spec.clusterId ?? '',
      productId: spec.productId,
      productName: product?.name ?? '',
      imageUrl: spec.imageUrl,
      gpuNum: spec.gpuNum,
      rootfsSize: spec.rootfsSize,
      billingMode: spec.billingMode ?? 'onDemand',
      portMappings: (spec.ports ?? []).map((p) => ({ port: p.port, type: p.type, endpoint: '' })),
    });
    return { id };
  }

  async startInstance(instanceId: string): Promise<void> {
    this.record('startInstance', instanceId);
    const inst = this.mustGet(instanceId);
    if (inst.status !== 'exited') throw new AppError(ErrorCode.INVALID_STATE, 'invalid state change');
    this.setStatus(instanceId, 'toStart');
  }

  async stopInstance(instanceId: string): Promise<void> {
    this.record('stopInstance', instanceId);
    const inst = this.mustGet(instanceId);
    if (!['running', 'pulling', 'starting', 'toStart'].includes(inst.status))
      throw new AppError(ErrorCode.INVALID_STATE, 'invalid state change');
    this.setStatus(instanceId, 'toStop');
  }

  async restartInstance(instanceId: string): Promise<void> {
    this.record('restartInstance', instanceId);
    this.setStatus(instanceId, 'toRestart');
  }

  async deleteInstance(instanceId: string): Promise<void> {
    this.record('deleteInstance', instanceId);
    this.mustGet(instanceId);
    this.setStatus(instanceId, 'toRemove');
  }

  async migrateInstance(instanceId: string): Promise<void> {
    this.record('migrateInstance', instanceId);
    this.setStatus(instanceId, 'migrating');
  }

  async listProducts(filter?: ProductFilter): Promise<GpuProduct[]> {
    this.record('listProducts', filter);
    return this.products
      .filter((p) => !filter?.productName || p.name.toLowerCase().includes(filter.productName.toLowerCase()))
      .map((p) => structuredClone(p));
  }

  async listClusters(): Promise<Cluster[]> {
    this.record('listClusters');
    return structuredClone(this.clusters);
  }

  async getTemplate(templateId: string): Promise<Template> {
    this.record('getTemplate', templateId);
    const t = this.templates.find((x) => x.id === templateId);
    if (!t) throw new AppError(ErrorCode.NOT_FOUND, 'template not found');
    return structuredClone(t);
  }

  async listRegistryAuths(): Promise<RegistryAuth[]> {
    this.record('listRegistryAuths');
    return structuredClone(this.registryAuths);
  }

  async listJobs(): Promise<{ jobs: NovitaJob[]; total: number }> {
    this.record('listJobs');
    return { jobs: [], total: 0 };
  }

  health(): { circuit: 'closed'; lastSuccessAt: number | null; lastError: string | null } {
    return { circuit: 'closed', lastSuccessAt: null, lastError: null };
  }
}

export function baseInstance(id: string): NovitaInstance {
  return {
    id,
    name: '',
    status: 'running',
    clusterId: 'as-sgp-2',
    clusterName: 'AS-SGP-02 (Singapore)',
    productId: 'p1',
    productName: 'RTX 4090 24GB',
    imageUrl: 'img',
    cpuNum: 16,
    memoryGb: 62,
    gpuNum: 1,
    rootfsSize: 60,
    billingMode: 'spot',
    portMappings: [],
    envs: [],
    spotStatus: '',
    spotReclaimTime: null,
    endTime: null,
    jobs: [],
  };
}

export function fakeProduct(over: Partial<GpuProduct> & { id: string; regions: string[] }): GpuProduct {
  return {
    name: 'RTX 4090 24GB',
    cpuPerGpu: 16,
    memoryPerGpu: 62,
    diskPerGpu: 200,
    availableDeploy: true,
    minRootFS: 10,
    maxRootFS: 500,
    onDemandPrice: 0.35,
    spotPrice: 0.17,
    monthlyPrices: [],
    billingMethods: ['onDemand', 'monthly', 'spot'],
    ...over,
  };
}
