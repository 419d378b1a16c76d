import {
  Cluster,
  CreateInstanceSpec,
  GpuProduct,
  InstanceListFilter,
  InstancePage,
  JobFilter,
  NovitaInstance,
  NovitaJob,
  ProductFilter,
  RegistryAuth,
  Template,
} from './novita.types';

/**
 * The port to Novita's GPU instance API. Implementations throw AppError with a classified code:
 * NOT_FOUND, INSUFFICIENT_RESOURCES, INVALID_STATE, UNAUTHORIZED_UPSTREAM, RATE_LIMITED,
 * UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT (UPSTREAM_BAD_REQUEST for any other 4xx).
 * Retries, timeouts and the circuit breaker live inside the implementation; callers never retry.
 */
export abstract class NovitaClient {
  /** One page; pageNum starts at 1. Idempotent, retried. */
  abstract listInstances(
    pageNum: number,
    pageSize: number,
    filter?: InstanceListFilter,
  ): Promise<InstancePage>;
  /** Walks every page until `total` is reached or a page comes back short. */
  abstract listAllInstances(filter?: InstanceListFilter, pageSize?: number): AsyncGenerator<NovitaInstance>;
  /**
   * Every instance, like listAllInstances, but collected and (in the HTTP client) with the pages
   * after the first fetched concurrently. This default walks them one by one.
   */
  async listAllPages(filter?: InstanceListFilter, pageSize?: number): Promise<NovitaInstance[]> {
    const all: NovitaInstance[] = [];
    for await (const instance of this.listAllInstances(filter, pageSize)) all.push(instance);
    return all;
  }
  abstract getInstance(instanceId: string): Promise<NovitaInstance>;
  /** Never retried once the request may have reached Novita: a retry could create a second instance. */
  abstract createInstance(spec: CreateInstanceSpec): Promise<{ id: string }>;
  abstract startInstance(instanceId: string): Promise<void>;
  abstract stopInstance(instanceId: string): Promise<void>;
  abstract restartInstance(instanceId: string): Promise<void>;
  abstract deleteInstance(instanceId: string): Promise<void>;
  /** Never retried blindly, like create. */
  abstract migrateInstance(instanceId: string): Promise<void>;
  abstract listProducts(filter?: ProductFilter): Promise<GpuProduct[]>;
  abstract listClusters(): Promise<Cluster[]>;
  abstract getTemplate(templateId: string): Promise<Template>;
  abstract listRegistryAuths(): Promise<RegistryAuth[]>;
  abstract listJobs(
    filter?: JobFilter,
    pageNum?: number,
    pageSize?: number,
  ): Promise<{ jobs: NovitaJob[]; total: number }>;
  /** Breaker state and last success, for /health. */
  abstract health(): {
    circuit: 'closed' | 'open' | 'half-open' | 'isolated';
    lastSuccessAt: number | null;
    lastError: string | null;
  };
}
