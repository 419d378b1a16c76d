import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { CacheRegistry } from '../../infra/metrics/cache-registry';
import { NovitaClient } from '../../infra/novita/novita-client';
import { Cluster, GpuProduct, Template } from '../../infra/novita/novita.types';
import { InstanceSpec } from '../records/instance.types';
import { RegionPlanEntry, buildRegionOrder, planProductSelection } from './product-selection.policy';
import { CreateInstanceDto } from './dto/create-instance.dto';

/** Clusters change rarely; a short cache saves one Novita call per create. */
const CLUSTER_CACHE_MS = 60_000;
/** Templates are edited by hand in Novita's console; a minute-old copy is fresh enough for a create. */
const TEMPLATE_CACHE_MS = 60_000;
export const CLUSTERS_CACHE = 'clusters';
export const TEMPLATES_CACHE = 'templates';

export interface ImageSpec {
  imageUrl: string;
  /** "user:password", sent to Novita instead of imageAuthId when known; never stored. */
  imageAuth?: string;
  /** Registry auth id (stored with the instance spec). */
  imageAuthId?: string;
  ports: { port: number; type: 'http' | 'tcp' }[];
  envs: { key: string; value: string }[];
  command?: string;
  rootfsSize?: number;
}

/** Catalogue look-ups for create: clusters (cached) and the image a template or the request describes. */
@Injectable()
export class NovitaCatalogService {
  /**
   * Where an instance of this spec can be created, cheapest first, region by region (preferred
   * region, then the fallback order). Used by create and by spot recovery's recreation.
   */
  async planFor(
    spec: Pick<InstanceSpec, 'productName' | 'billingMode' | 'gpuNum' | 'rootfsSize' | 'preferredRegion'>,
    fallbackOrder: string[],
  ): Promise<{ products: GpuProduct[]; plan: RegionPlanEntry[] }> {
    const [products, clusters] = await Promise.all([
      this.novita.listProducts({
        productName: spec.productName,
        billingMethod: spec.billingMode,
        gpuNum: spec.gpuNum,
      }),
      this.clusters(),
    ]);
    const regions = buildRegionOrder(spec.preferredRegion, fallbackOrder);
    return { products, plan: planProductSelection({ ...spec, regions, products, clusters }) };
  }

  private clusterCache: { at: number; clusters: Cluster[] } | null = null;
  private readonly templateCache = new Map<string, { at: number; template: Template }>();

  constructor(
    private readonly novita: NovitaClient,
    private readonly caches: CacheRegistry = new CacheRegistry(),
  ) {
    caches.register({
      name: CLUSTERS_CACHE,
      description: 'Novita clusters (regions and their GPUs), kept 60 s',
      entries: () => this.clusterCache?.clusters.length ?? 0,
      sizeBytes: () => jsonBytes(this.clusterCache?.clusters ?? []),
      clear: () => {
        this.clusterCache = null;
      },
    });
    caches.register({
      name: TEMPLATES_CACHE,
      description: 'Novita templates used by creates, kept 60 s',
      entries: () => this.templateCache.size,
      sizeBytes: () => jsonBytes([...this.templateCache.values()].map((e) => e.template)),
      clear: () => this.templateCache.clear(),
    });
  }

  async clusters(now = Date.now()): Promise<Cluster[]> {
    if (this.clusterCache && now - this.clusterCache.at < CLUSTER_CACHE_MS) {
      this.caches.hit(CLUSTERS_CACHE);
      return this.clusterCache.clusters;
    }
    this.caches.miss(CLUSTERS_CACHE);
    const clusters = await this.novita.listClusters();
    this.clusterCache = { at: now, clusters };
    return clusters;
  }

  /** A template by id, from the cache when fetched less than a minute ago. */
  async template(templateId: string, now = Date.now()): Promise<Template> {
    const cached = this.templateCache.get(templateId);
    if (cached && now - cached.at < TEMPLATE_CACHE_MS) {
      this.caches.hit(TEMPLATES_CACHE);
      return cached.template;
    }
    this.caches.miss(TEMPLATES_CACHE);
    const template = await this.novita.getTemplate(templateId);
    this.templateCache.set(templateId, { at: now, template });
    return template;
  }

  /** The template supplies image, ports, envs, command and registry auth; explicit request fields win. */
  async resolveImage(dto: CreateInstanceDto): Promise<ImageSpec> {
    const own = {
      ports: dto.ports?.map((p) => ({ port: p.port, type: p.type })),
      envs: dto.envs?.map((e) => ({ key: e.key, value: e.value })),
      command: dto.command,
    };
    if (!dto.templateId) {
      return {
        imageUrl: dto.imageUrl!,
        imageAuthId: dto.imageAuthId,
        ports: own.ports ?? [],
        envs: own.envs ?? [],
        command: own.command,
      };
    }
    const template = await this.template(dto.templateId).catch((err: unknown) => {
      if (
        isAppError(err) &&
        (err.code === ErrorCode.NOT_FOUND || err.code === ErrorCode.UPSTREAM_BAD_REQUEST)
      ) {
        throw new AppError(ErrorCode.NOT_FOUND, `Template ${dto.templateId} not found`, {
          templateId: dto.templateId,
        });
      }
      throw err;
    });
    const spec: ImageSpec = {
      imageUrl: dto.imageUrl ?? template.imageUrl,
      ports: own.ports ?? template.ports,
      envs: mergeEnvs(template.envs, own.envs ?? []),
      command: own.command ?? template.command,
      rootfsSize: template.rootfsSize,
    };
    const authId = dto.imageAuthId ?? template.imageAuthId;
    if (authId) {
      const auth = (await this.novita.listRegistryAuths()).find((a) => a.id === authId);
      // Inline credentials when we can read them; otherwise let Novita resolve the id itself.
      spec.imageAuthId = authId;
      if (auth) spec.imageAuth = `${auth.username}:${auth.password}`;
    }
    return spec;
  }
}

function jsonBytes(values: unknown[]): number {
  return values.length === 0 ? 0 : Buffer.byteLength(JSON.stringify(values));
}

function mergeEnvs(
  base: { key: string; value: string }[],
  overrides: { key: string; value: string }[],
): { key: string; value: string }[] {
  const map = new Map(base.map((e) => [e.key, e.value]));
  for (const e of overrides) map.set(e.key, e.value);
  return [...map].map(([key, value]) => ({ key, value }));
}
