import {
  BillingMode,
  Cluster,
  GpuProduct,
  NovitaInstance,
  NovitaJob,
  PortMapping,
  RegistryAuth,
  Template,
} from './novita.types';
import {
  WireCluster,
  WireEnv,
  WireGpuProduct,
  WireInstance,
  WireJob,
  WireNumber,
  WireRepositoryAuth,
  WireTemplate,
  WireTemplatePort,
  WireUnixSeconds,
} from './novita-wire.types';

/** Novita prices are integers in 1/100,000 USD (API-NOTES §1.3: 67000 = $0.67/h). */
export const PRICE_UNITS_PER_DOLLAR = 100_000;

const BILLING_MODES: readonly BillingMode[] = ['spot', 'onDemand', 'monthly'];

/** A number, or a numeric string; anything else gives `fallback` (the API types several integers as strings). */
export function toNumber(value: unknown, fallback = 0): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : fallback;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : fallback;
  }
  return fallback;
}

/**
 * Unix seconds (number or decimal string) to epoch ms. "0", "", "-1" and non-positive values mean
 * "none" and give null. Values already in ms (> 1e11, i.e. after 1973 when read as ms) pass through,
 * and ISO date strings (the yaml types Template.createTime as date-time) are parsed.
 */
export function toEpochMs(value: WireUnixSeconds | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = toNumber(value, NaN);
  if (Number.isNaN(n)) {
    if (typeof value !== 'string') return null;
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  if (n <= 0) return null;
  return n > 1e11 ? Math.round(n) : Math.round(n * 1000);
}

export function toDollars(units: WireNumber | null | undefined): number {
  return toNumber(units) / PRICE_UNITS_PER_DOLLAR;
}

function str(value: string | null | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** '' and null become undefined, for optional domain fields. */
function optStr(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optMs(value: WireUnixSeconds | null | undefined): number | undefined {
  return toEpochMs(value) ?? undefined;
}

function toBillingMode(value: string | null | undefined): BillingMode | '' {
  return BILLING_MODES.includes(value as BillingMode) ? (value as BillingMode) : '';
}

function mapEnvs(envs: WireEnv[] | null | undefined): { key: string; value: string }[] {
  if (!Array.isArray(envs)) return [];
  return envs.filter((e) => e && str(e.key) !== '').map((e) => ({ key: str(e.key), value: str(e.value) }));
}

function mapPortMappings(mappings: WireInstance['portMappings']): PortMapping[] {
  if (!Array.isArray(mappings)) return [];
  return mappings
    .map((m) => ({ port: toNumber(m?.port), endpoint: str(m?.endpoint), type: str(m?.type) }))
    .filter((m) => m.port > 0);
}

export function toNovitaInstance(wire: WireInstance): NovitaInstance {
  const statusError =
    wire.statusError && (optStr(wire.statusError.state) || optStr(wire.statusError.message))
      ? { state: optStr(wire.statusError.state), message: optStr(wire.statusError.message) }
      : undefined;
  return {
    id: str(wire.id),
    name: str(wire.name),
    // Kept verbatim, including values outside the documented enum ("pending", future ones).
    status: str(wire.status),
    clusterId: str(wire.clusterId),
    clusterName: optStr(wire.clusterName),
    productId: str(wire.productId),
    productName: str(wire.productName),
    imageUrl: str(wire.imageUrl),
    imageAuthId: optStr(wire.imageAuthId),
    command: optStr(wire.command),
    cpuNum: toNumber(wire.cpuNum),
    memoryGb: toNumber(wire.memory),
    gpuNum: toNumber(wire.gpuNum),
    rootfsSize: toNumber(wire.rootfsSize),
    billingMode: toBillingMode(wire.billingMode),
    portMappings: mapPortMappings(wire.portMappings),
    envs: mapEnvs(wire.envs),
    kind: optStr(wire.kind),
    spotStatus: str(wire.spotStatus),
    spotReclaimTime: toEpochMs(wire.spotReclaimTime),
    statusError,
    createdAt: optMs(wire.createdAt),
    startedAt: optMs(wire.startedAt),
    stoppedAt: optMs(wire.stoppedAt),
    lastStartedAt: optMs(wire.lastStartedAt),
    lastStoppedAt: optMs(wire.lastStoppedAt),
    endTime: toEpochMs(wire.endTime),
    jobs: Array.isArray(wire.jobs)
      ? wire.jobs.map((j) => ({ id: str(j?.id ?? j?.Id), type: str(j?.type) })).filter((j) => j.id !== '')
      : [],
  };
}

export function toGpuProduct(wire: WireGpuProduct): GpuProduct {
  const spot = toNumber(wire.spotPrice);
  return {
    id: str(wire.id),
    name: str(wire.name),
    cpuPerGpu: toNumber(wire.cpuPerGpu),
    memoryPerGpu: toNumber(wire.memoryPerGpu),
    diskPerGpu: toNumber(wire.diskPerGpu),
    availableDeploy: wire.availableDeploy === true,
    minRootFS: toNumber(wire.minRootFS),
    maxRootFS: toNumber(wire.maxRootFS),
    // The docs example shows `{}` instead of a list; treat anything but an array as "no regions".
    regions: Array.isArray(wire.regions) ? wire.regions.filter((r) => typeof r === 'string') : [],
    onDemandPrice: toDollars(wire.price),
    // Missing or 0 means spot is not offered (API-NOTES §3.7).
    spotPrice: spot > 0 ? spot / PRICE_UNITS_PER_DOLLAR : null,
    monthlyPrices: Array.isArray(wire.monthlyPrice)
      ? wire.monthlyPrice.map((p) => ({ month: toNumber(p?.month), price: toDollars(p?.price) }))
      : [],
    billingMethods: Array.isArray(wire.billingMethods)
      ? wire.billingMethods.filter((m): m is BillingMode => BILLING_MODES.includes(m as BillingMode))
      : [],
    inventoryState: optStr(wire.inventoryState),
  };
}

export function toCluster(wire: WireCluster): Cluster {
  return {
    id: str(wire.id),
    name: str(wire.name),
    availableGpuTypes: Array.isArray(wire.availableGpuType) ? [...wire.availableGpuType] : [],
    supportNetworkStorage: wire.supportNetworkStorage === true,
    supportInstanceNetwork: wire.supportInstanceNetwork === true,
  };
}

function toPortType(value: string | null | undefined): 'http' | 'tcp' | undefined {
  const t = str(value).trim().toLowerCase();
  return t === 'http' || t === 'tcp' ? t : undefined;
}

/**
 * Templates group ports as [{type, ports: [n...]}]; the domain wants one entry per port. Port types
 * other than http/tcp cannot be expressed in a create request, so they are dropped. A legacy
 * "8888/http,22/tcp" string is accepted too.
 */
export function flattenTemplatePorts(
  ports: WireTemplatePort[] | string | null | undefined,
): Template['ports'] {
  const out: Template['ports'] = [];
  if (typeof ports === 'string') {
    for (const part of ports.split(',')) {
      const [p, t] = part.trim().split('/');
      const port = toNumber(p);
      const type = toPortType(t);
      if (port > 0 && type) out.push({ port, type });
    }
    return out;
  }
  if (!Array.isArray(ports)) return out;
  for (const group of ports) {
    const type = toPortType(group?.type);
    if (!type || !Array.isArray(group.ports)) continue;
    for (const p of group.ports) {
      const port = toNumber(p);
      if (port > 0) out.push({ port, type });
    }
  }
  return out;
}

export function toTemplate(wire: WireTemplate): Template {
  const rootfs = toNumber(wire.rootfsSize, NaN);
  return {
    id: str(wire.Id),
    name: str(wire.name),
    imageUrl: str(wire.image),
    // Template.imageAuth is a registry-auth ID, "" when the image is public.
    imageAuthId: optStr(wire.imageAuth),
    ports: flattenTemplatePorts(wire.ports),
    envs: mapEnvs(wire.envs),
    command: optStr(wire.startCommand),
    rootfsSize: Number.isNaN(rootfs) ? undefined : rootfs,
  };
}

export function toRegistryAuth(wire: WireRepositoryAuth): RegistryAuth {
  return {
    id: str(wire.id),
    name: str(wire.name),
    username: str(wire.username),
    password: str(wire.password),
  };
}

export function toNovitaJob(wire: WireJob): NovitaJob {
  const state = wire.state ?? {};
  return {
    id: str(wire.Id ?? wire.id),
    type: str(wire.type),
    instanceId: optStr(wire.instanceId),
    state: str(state.state),
    error: optStr(state.error) ?? optStr(state.message),
    createdAt: optMs(wire.createdAt),
  };
}
