import { Logger } from '@nestjs/common';
import { CircuitState } from 'cockatiel';
import { AppError, ErrorCode } from '../../common/errors';
import { NovitaConfig } from '../../config/config.types';
import { NovitaClient } from './novita-client';
import { classifyNovitaError } from './novita-error.classifier';
import { NodeNovitaTransport, NovitaHttpRequest, NovitaTransport } from './novita-http';
import {
  toCluster,
  toGpuProduct,
  toNovitaInstance,
  toNovitaJob,
  toNumber,
  toRegistryAuth,
  toTemplate,
} from './novita-mappers';
import {
  toWireCreateRequest,
  toWireListInstancesQuery,
  toWireListJobsQuery,
  toWireListProductsQuery,
} from './novita-requests';
import {
  AttemptPolicy,
  NovitaCallObserver,
  NovitaPolicies,
  ResilienceOptions,
  buildNovitaPolicies,
} from './novita-resilience';
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
import {
  WireCreateInstanceResponse,
  WireGetTemplateResponse,
  WireInstance,
  WireListClustersResponse,
  WireListInstancesResponse,
  WireListJobsResponse,
  WireListProductsResponse,
  WireListRepositoryAuthsResponse,
} from './novita-wire.types';
import { walkPages } from './page-walk';

export const DEFAULT_LIST_PAGE_SIZE = 100;

/** Codes that say something about Novita's health (as opposed to an answer about one resource). */
const HEALTH_RELEVANT = new Set<ErrorCode>([
  ErrorCode.UPSTREAM_UNAVAILABLE,
  ErrorCode.UPSTREAM_TIMEOUT,
  ErrorCode.UPSTREAM_RATE_LIMITED,
  ErrorCode.UNAUTHORIZED_UPSTREAM,
  ErrorCode.INTERNAL_ERROR,
]);

const CIRCUIT_NAMES: Record<CircuitState, ReturnType<NovitaClient['health']>['circuit']> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

interface Call {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  params?: object;
  data?: object;
  idempotent: boolean;
}

/**
 * NovitaClient over HTTP (novita-http.ts), with every call through cockatiel policies (see
 * novita-resilience.ts for the order and why). Buildable without Nest:
 * `new HttpNovitaClient(novitaConfig)`; tests may hand in their own transport.
 */
export class HttpNovitaClient extends NovitaClient {
  private readonly logger = new Logger(HttpNovitaClient.name);
  private readonly policies: NovitaPolicies;
  private readonly baseUrl: string;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private readonly observer?: NovitaCallObserver;

  private readonly headers: Record<string, string>;

  constructor(
    private readonly config: NovitaConfig,
    options: ResilienceOptions = {},
    private readonly http: NovitaTransport = new NodeNovitaTransport(),
  ) {
    super();
    this.headers = {
      Authorization: `Bearer ${config.apiKey}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    };
    this.observer = options.observer;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.policies = buildNovitaPolicies(config, options);
    this.policies.breaker.onBreak(() => this.logger.warn({ msg: 'Novita circuit opened' }));
    this.policies.breaker.onReset(() => this.logger.log({ msg: 'Novita circuit closed' }));
  }

  async listInstances(pageNum: number, pageSize: number, filter?: InstanceListFilter): Promise<InstancePage> {
    const { page } = await this.fetchInstancePage(pageNum, pageSize, filter);
    return page;
  }

  async *listAllInstances(
    filter?: InstanceListFilter,
    pageSize = DEFAULT_LIST_PAGE_SIZE,
  ): AsyncGenerator<NovitaInstance> {
    // Ids already yielded: an instance created mid-walk shifts later pages and would repeat an item.
    const seen = new Set<string>();
    let received = 0;
    for (let pageNum = 1; ; pageNum++) {
      const { page, totalKnown } = await this.fetchInstancePage(pageNum, pageSize, filter);
      received += page.instances.length;
      let fresh = 0;
      for (const instance of page.instances) {
        if (seen.has(instance.id)) continue;
        seen.add(instance.id);
        fresh++;
        yield instance;
      }
      const shortPage = page.instances.length < pageSize;
      // A full page of ids already seen means pageNum is being ignored; stop rather than loop forever.
      if (shortPage || fresh === 0 || (totalKnown && received >= page.total)) return;
    }
  }

  /** Pages after the first, NOVITA_MAX_CONCURRENT_REQUESTS at a time (the bulkhead would queue any more anyway). */
  override async listAllPages(
    filter?: InstanceListFilter,
    pageSize = DEFAULT_LIST_PAGE_SIZE,
  ): Promise<NovitaInstance[]> {
    return walkPages(
      async (pageNum) => {
        const { page, totalKnown } = await this.fetchInstancePage(pageNum, pageSize, filter);
        return { instances: page.instances, total: totalKnown ? page.total : null };
      },
      pageSize,
      this.config.maxConcurrent,
    );
  }

  async getInstance(instanceId: string): Promise<NovitaInstance> {
    const wire = await this.send<WireInstance>({
      operation: 'getInstance',
      method: 'GET',
      path: '/gpu/instance',
      params: { instanceId },
      idempotent: true,
    });
    return toNovitaInstance(wire);
  }

  async createInstance(spec: CreateInstanceSpec): Promise<{ id: string }> {
    const res = await this.send<WireCreateInstanceResponse>({
      operation: 'createInstance',
      method: 'POST',
      path: '/gpu/instance/create',
      data: toWireCreateRequest(spec),
      idempotent: false,
    });
    if (!res || typeof res.id !== 'string' || res.id === '') {
      throw new AppError(
        ErrorCode.UPSTREAM_BAD_REQUEST,
        'Novita accepted the create but returned no instance id',
        {
          operation: 'createInstance',
        },
      );
    }
    return { id: res.id };
  }

  startInstance(instanceId: string): Promise<void> {
    return this.instanceAction('start', instanceId, true);
  }

  stopInstance(instanceId: string): Promise<void> {
    return this.instanceAction('stop', instanceId, true);
  }

  restartInstance(instanceId: string): Promise<void> {
    return this.instanceAction('restart', instanceId, true);
  }

  deleteInstance(instanceId: string): Promise<void> {
    return this.instanceAction('delete', instanceId, true);
  }

  migrateInstance(instanceId: string): Promise<void> {
    return this.instanceAction('migrate', instanceId, false);
  }

  async listProducts(filter?: ProductFilter): Promise<GpuProduct[]> {
    const res = await this.send<WireListProductsResponse>({
      operation: 'listProducts',
      method: 'GET',
      path: '/products',
      params: toWireListProductsQuery(filter),
      idempotent: true,
    });
    return (res?.data ?? []).map(toGpuProduct);
  }

  async listClusters(): Promise<Cluster[]> {
    const res = await this.send<WireListClustersResponse>({
      operation: 'listClusters',
      method: 'GET',
      path: '/clusters',
      idempotent: true,
    });
    return (res?.data ?? []).map(toCluster);
  }

  async getTemplate(templateId: string): Promise<Template> {
    const res = await this.send<WireGetTemplateResponse>({
      operation: 'getTemplate',
      method: 'GET',
      path: '/template',
      params: { templateId },
      idempotent: true,
    });
    if (!res?.template) {
      throw new AppError(ErrorCode.NOT_FOUND, 'Novita template not found', {
        operation: 'getTemplate',
        templateId,
      });
    }
    return toTemplate(res.template);
  }

  async listRegistryAuths(): Promise<RegistryAuth[]> {
    const res = await this.send<WireListRepositoryAuthsResponse>({
      operation: 'listRegistryAuths',
      method: 'GET',
      path: '/repository/auths',
      idempotent: true,
    });
    return (res?.data ?? []).map(toRegistryAuth);
  }

  async listJobs(
    filter?: JobFilter,
    pageNum = 1,
    pageSize = DEFAULT_LIST_PAGE_SIZE,
  ): Promise<{ jobs: NovitaJob[]; total: number }> {
    const res = await this.send<WireListJobsResponse>({
      operation: 'listJobs',
      method: 'GET',
      path: '/jobs',
      params: toWireListJobsQuery(filter, pageNum, pageSize),
      idempotent: true,
    });
    const jobs = (res?.jobs ?? []).map(toNovitaJob);
    return { jobs, total: toNumber(res?.total, jobs.length) };
  }

  health(): ReturnType<NovitaClient['health']> {
    return {
      circuit: CIRCUIT_NAMES[this.policies.breaker.state],
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
    };
  }

  /** `totalKnown` is false when Novita omitted `total` (the docs example does); the walk then stops on a short page. */
  private async fetchInstancePage(
    pageNum: number,
    pageSize: number,
    filter?: InstanceListFilter,
  ): Promise<{ page: InstancePage; totalKnown: boolean }> {
    const res = await this.send<WireListInstancesResponse>({
      operation: 'listInstances',
      method: 'GET',
      path: '/gpu/instances',
      params: toWireListInstancesQuery(pageNum, pageSize, filter),
      idempotent: true,
    });
    const instances = (res?.instances ?? []).map(toNovitaInstance);
    const total = toNumber(res?.total, NaN);
    const totalKnown = !Number.isNaN(total);
    return { page: { instances, total: totalKnown ? total : instances.length }, totalKnown };
  }

  private async instanceAction(action: string, instanceId: string, idempotent: boolean): Promise<void> {
    // The body is ignored: [Y] says {}, the live API may send {instanceId, state}; callers poll getInstance.
    await this.send<unknown>({
      operation: `${action}Instance`,
      method: 'POST',
      path: `/gpu/instance/${action}`,
      data: { instanceId },
      idempotent,
    });
  }

  private async send<T>(call: Call): Promise<T> {
    const policy: AttemptPolicy = call.idempotent ? this.policies.idempotent : this.policies.nonIdempotent;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      // The attempt's signal cancels a request that timed out.
      const res = await policy.execute(({ signal }) => this.http.request(this.requestOf(call, signal)));
      this.lastSuccessAt = Date.now();
      this.observer?.recordNovitaCall(call.operation, 'ok', seconds());
      return res.data as T;
    } catch (err) {
      const appError = classifyNovitaError(err, {
        operation: call.operation,
        breakerRetryAfterSeconds: Math.max(1, Math.ceil(this.config.breakerHalfOpenAfterMs / 1000)),
      });
      this.observer?.recordNovitaCall(call.operation, appError.code.toLowerCase(), seconds());
      if (HEALTH_RELEVANT.has(appError.code)) {
        this.lastError = `${appError.code}: ${appError.message}`;
        this.logger.warn({ msg: 'Novita call failed', operation: call.operation, code: appError.code });
      }
      throw appError;
    }
  }

  private requestOf(call: Call, signal: AbortSignal): NovitaHttpRequest {
    return {
      method: call.method,
      url: `${this.baseUrl}${call.path}${queryOf(call.params)}`,
      headers: this.headers,
      body: call.data === undefined ? undefined : JSON.stringify(call.data),
      signal,
    };
  }
}

/** `?a=1&b=x` from the defined values of `params` ('' when there are none). */
function queryOf(params: object | undefined): string {
  if (!params) return '';
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null) query.append(key, String(value));
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}
