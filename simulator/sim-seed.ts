/** Seeding instances directly into any status, bypassing the API (for tests and the demo). */
import { parsePorts } from './sim-create';
import { SimState } from './sim-state';
import { SeedInstanceInput, SimInstance } from './sim-types';

export function seedOne(state: SimState, input: SeedInstanceInput, index: number): SimInstance {
  state.settleAll();
  const product = resolveSeedProduct(state, input);
  const billingMode = input.billingMode ?? 'onDemand';
  const status = input.status ?? 'running';
  if (input.id !== undefined && !/^[0-9a-f]{16}$/.test(input.id))
    throw new Error('seeded ids must be 16 lowercase hex characters');
  if (input.id !== undefined && state.instances.has(input.id))
    throw new Error(`instance ${input.id} already exists`);
  const inst = state.addInstance({
    id: input.id,
    name: input.name ?? `seed-${String(index + 1).padStart(4, '0')}`,
    clusterId: product.clusterId,
    productId: product.id,
    gpuNum: input.gpuNum ?? 1,
    rootfsSize: 50,
    imageUrl: input.imageUrl ?? 'ghcr.io/sim/app:latest',
    command: input.command ?? '',
    billingMode,
    envs: input.envs ?? [],
    ports:
      typeof input.ports === 'string'
        ? parsePorts(input.ports)
        : (input.ports ?? [{ port: 8080, type: 'http' }]),
    spotStatus: input.spotStatus ?? (billingMode === 'spot' ? 'running' : ''),
    appHealth: input.appHealth ?? 'healthy',
    createdAt: input.createdAt ?? state.now(),
    endTime: billingMode === 'monthly' ? state.now() + 30 * 86_400_000 : 0,
  });
  if (input.spotReclaimAt) {
    inst.spotReclaimAt = input.spotReclaimAt;
    inst.nodeReclaimed = true;
    inst.spotStatus = input.spotStatus ?? 'terminated';
  }
  state.seedStatus(inst, status, input.consumeCapacity);
  return inst;
}

function resolveSeedProduct(state: SimState, input: SeedInstanceInput) {
  const ref = input.productId ?? input.productName;
  if (ref === undefined) {
    const inCluster = input.clusterId ? state.catalogue.resolveCluster(input.clusterId) : undefined;
    if (input.clusterId && !inCluster) throw new Error(`unknown cluster ${input.clusterId}`);
    const p = state.catalogue.products.find((x) => !inCluster || x.clusterId === inCluster.id);
    return p!;
  }
  const matches = state.catalogue.resolveProducts(ref, input.clusterId);
  if (!matches.length)
    throw new Error(`unknown product ${ref}${input.clusterId ? ` in ${input.clusterId}` : ''}`);
  return matches[0];
}
