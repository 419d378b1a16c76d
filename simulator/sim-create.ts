/** POST /gpu/instance/create: validation as documented (API-NOTES §3.3), then capacity. */
import { SimError, badParam, insufficientResource } from './sim-errors';
import { buildPlan } from './sim-lifecycle';
import { SimState } from './sim-state';
import { BillingMode, PortSpec } from './sim-types';

const RESERVED_PORTS = new Set([2222, 2223, 2224]);

/** Parses Novita's create-time port string "8080/http,22/tcp". */
export function parsePorts(value: unknown): PortSpec[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value !== 'string') throw badParam('ports must be a string like "8080/http,22/tcp"');
  const ports = value.split(',').map((part) => {
    const m = /^\s*(\d{1,5})\/(http|tcp)\s*$/.exec(part);
    const port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) throw badParam(`invalid port "${part.trim()}"`);
    if (RESERVED_PORTS.has(port)) throw badParam(`port ${port} is reserved`);
    return { port, type: m[2] as 'http' | 'tcp' };
  });
  if (ports.length > 15) throw badParam('at most 15 ports are allowed');
  return ports;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function createInstance(state: SimState, raw: unknown): { id: string } {
  const now = state.settleAll();
  if (typeof raw !== 'object' || raw === null) throw badParam('request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  if (typeof body.productId !== 'string' || !body.productId) throw badParam('productId is required');
  if (typeof body.imageUrl !== 'string' || !body.imageUrl || body.imageUrl.length > 500) {
    throw badParam('imageUrl is required (1-500 characters)');
  }
  if (body.kind !== 'gpu' && body.kind !== 'cpu') throw badParam('kind is required: gpu or cpu');
  const gpuNum = body.gpuNum;
  if (typeof gpuNum !== 'number' || !Number.isInteger(gpuNum) || gpuNum < 1 || gpuNum > 8) {
    throw badParam('gpuNum must be an integer 1-8');
  }
  if (typeof body.rootfsSize !== 'number' || !Number.isFinite(body.rootfsSize))
    throw badParam('rootfsSize is required');
  if (typeof body.name === 'string' && body.name.length > 255) throw badParam('name is too long');
  const product = state.catalogue.product(body.productId);
  if (!product) throw new SimError(400, 'RESOURCE_NOT_FOUND', 'product not found');
  if (typeof body.clusterId === 'string' && body.clusterId && body.clusterId !== product.clusterId) {
    throw badParam('product is not available in the requested cluster');
  }
  const rootfsSize = Math.max(10, Math.floor(body.rootfsSize));
  if (rootfsSize > product.maxRootFS)
    throw badParam(`rootfsSize exceeds the product maximum of ${product.maxRootFS} GB`);
  const ports = parsePorts(body.ports);
  const month = typeof body.month === 'number' ? body.month : 0;
  const billingMode: BillingMode = month > 0 ? 'monthly' : (body.billingMode as BillingMode) || 'onDemand';
  if (!['onDemand', 'monthly', 'spot'].includes(billingMode))
    throw badParam('billingMode must be onDemand, monthly or spot');
  if (billingMode === 'spot' && product.spotPrice <= 0) {
    throw new SimError(400, 'UNSUPPORTED_BILLING_MODE', 'this product does not support spot billing');
  }
  const live = [...state.instances.values()].filter((i) => i.status !== 'removed').length;
  if (live >= state.instanceLimit) {
    throw new SimError(
      400,
      'CREATE_INSTANCE_LIMIT',
      'instance limit reached, please recharge or delete other instances',
    );
  }
  if (product.capacity < gpuNum) throw insufficientResource();

  const envs = Array.isArray(body.envs)
    ? (body.envs as { key?: unknown; value?: unknown }[]).map((e) => ({
        key: str(e?.key),
        value: str(e?.value),
      }))
    : [];
  const networkStorages = Array.isArray(body.networkStorages)
    ? (body.networkStorages as { Id?: unknown; mountPoint?: unknown }[]).map((n) => ({
        id: str(n?.Id),
        mountPoint: str(n?.mountPoint) || '/network',
      }))
    : [];
  const inst = state.addInstance({
    name: str(body.name),
    clusterId: product.clusterId,
    productId: product.id,
    gpuNum,
    rootfsSize,
    imageUrl: body.imageUrl,
    imageAuthId: str(body.imageAuthId),
    command: str(body.command),
    entrypoint: str(body.entrypoint),
    kind: body.kind,
    billingMode,
    envs,
    ports,
    networkStorages,
    spotStatus: billingMode === 'spot' ? 'running' : '',
    endTime: billingMode === 'monthly' ? now + Math.max(month, 1) * 30 * 86_400_000 : 0,
    createdAt: now,
  });
  state.takeGpus(inst);
  state.begin(inst, buildPlan('create', state.timings, now));
  return { id: inst.id };
}
