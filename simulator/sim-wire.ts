/**
 * Internal records → Novita wire JSON: string-typed numbers on instances, Unix-second strings for
 * times, integer prices in 1/100,000 USD, capital-I `Id` on jobs and templates (API-NOTES §1.3).
 */
import { SimCatalogue, SimProduct, SimTemplate } from './sim-catalogue';
import { SimInstance, SimJob } from './sim-types';

const secs = (ms: number): string => String(Math.floor(ms / 1000));

export function appEndpoint(appBaseUrl: string, inst: SimInstance, port: number, type: string): string {
  if (type === 'http') return `${appBaseUrl}/i/${inst.id}/${port}`;
  return `${new URL(appBaseUrl).host}`;
}

export function toWireInstance(
  inst: SimInstance,
  catalogue: SimCatalogue,
  appBaseUrl: string,
): Record<string, unknown> {
  const product = catalogue.product(inst.productId)!;
  const cluster = catalogue.cluster(inst.clusterId)!;
  const running = inst.status === 'running';
  const host = new URL(appBaseUrl).host;
  const wire: Record<string, unknown> = {
    id: inst.id,
    name: inst.name,
    clusterId: inst.clusterId,
    clusterName: cluster.name,
    status: inst.status,
    imageUrl: inst.imageUrl,
    imageAuthId: inst.imageAuthId,
    command: inst.command,
    entrypoint: inst.entrypoint,
    cpuNum: String(product.cpuPerGpu * inst.gpuNum),
    memory: String(product.memoryPerGpu * inst.gpuNum),
    gpuNum: String(inst.gpuNum),
    productId: inst.productId,
    productName: product.name,
    rootfsSize: inst.rootfsSize,
    // Endpoints are empty until the instance runs (API-NOTES §5).
    portMappings: inst.ports.map((p) => ({
      port: p.port,
      endpoint: running ? appEndpoint(appBaseUrl, inst, p.port, p.type) : '',
      type: p.type,
    })),
    volumeMounts: inst.networkStorages.map((n) => ({
      type: 'network',
      size: '10',
      id: n.id,
      mountPath: n.mountPoint,
    })),
    envs: inst.envs.map((e) => ({ ...e })),
    kind: inst.kind,
    billingMode: inst.billingMode,
    endTime: inst.billingMode === 'monthly' ? secs(inst.endTime) : '-1',
    spotStatus: inst.spotStatus,
    spotReclaimTime: inst.spotReclaimAt ? secs(inst.spotReclaimAt) : '0',
    node: { id: inst.nodeId, maxRootfsSize: product.maxRootFS, maxLocalVolumeSize: product.maxLocalStorage },
    freeStorageSize: Math.max(0, product.maxRootFS - inst.rootfsSize),
    keepDataDay: 7,
    jobs: inst.jobIds.map((id) => ({ id, type: 'instanceMigrate' })),
    // The docs' connect-component shapes (API-NOTES §6 #10).
    connectComponentSSH: {
      sshCommand: running ? `ssh root@${host.split(':')[0]} -p 22` : '',
      password: 'sim-password',
      isRunning: running,
    },
    connectComponentWebTerminal: {
      address: running ? `${appBaseUrl}/i/${inst.id}/terminal` : '',
      username: 'root',
      password: 'sim-password',
      isRunning: running,
    },
    connectComponentJupyter: { port: 8888, address: '', isRunning: false },
    connectComponentLog: {
      systemLogAddress: `${appBaseUrl}/i/${inst.id}/logs/system`,
      instanceLogAddress: `${appBaseUrl}/i/${inst.id}/logs/instance`,
      isRunning: running,
    },
    createdAt: secs(inst.createdAt),
  };
  if (inst.statusError) wire.statusError = { ...inst.statusError };
  if (inst.startedAt) {
    wire.startedAt = secs(inst.startedAt);
    wire.lastStartedAt = secs(inst.startedAt);
  }
  if (inst.stoppedAt) {
    wire.stoppedAt = secs(inst.stoppedAt);
    wire.lastStoppedAt = secs(inst.stoppedAt);
  }
  return wire;
}

export function inventoryState(capacity: number): 'none' | 'low' | 'normal' | 'high' {
  if (capacity <= 0) return 'none';
  if (capacity < 4) return 'low';
  return capacity < 16 ? 'normal' : 'high';
}

export function toWireProduct(
  p: SimProduct,
  catalogue: SimCatalogue,
  gpuNum: number,
): Record<string, unknown> {
  const cluster = catalogue.cluster(p.clusterId)!;
  return {
    id: p.id,
    name: p.name,
    cpuPerGpu: p.cpuPerGpu,
    memoryPerGpu: p.memoryPerGpu,
    diskPerGpu: p.diskPerGpu,
    availableDeploy: p.capacity >= Math.max(1, gpuNum),
    minRootFS: p.minRootFS,
    maxRootFS: p.maxRootFS,
    minLocalStorage: p.minLocalStorage,
    maxLocalStorage: p.maxLocalStorage,
    regions: [cluster.name],
    price: p.price,
    spotPrice: p.spotPrice,
    // Subscriptions: about 20% off the on-demand hourly price over a 30-day month, more for longer terms.
    monthlyPrice: [1, 3, 6, 12].map((month) => ({
      month,
      price: Math.round(p.price * 24 * 30 * month * (0.8 - month * 0.01)),
    })),
    billingMethods: catalogue.billingMethods(p),
    inventoryState: inventoryState(p.capacity),
  };
}

export function toWireJob(job: SimJob, now: number, appBaseUrl: string): Record<string, unknown> {
  const state = jobState(job, now);
  return {
    Id: job.id,
    user: 'sim-user-1000001',
    type: job.type,
    state:
      state === 'fail'
        ? { state, error: 'MIGRATE_FAILED', message: 'migration failed on target node' }
        : { state },
    logAddress: `${appBaseUrl}/jobs/${job.id}/log`,
    createdAt: secs(job.createdAt),
    instanceId: job.instanceId,
  };
}

export function jobState(job: SimJob, now: number): string {
  if (job.brokenAt !== undefined) return 'break';
  if (now < job.endsAt) return 'running';
  return job.fails ? 'fail' : 'success';
}

export function toWireTemplate(t: SimTemplate): Record<string, unknown> {
  return {
    Id: t.Id,
    createTime: t.createTime,
    user: 'sim-user-1000001',
    name: t.name,
    readme: `# ${t.name}\n\nA simulated template.`,
    type: 'instance',
    channel: 'private',
    image: t.image,
    imageAuth: t.imageAuth,
    startCommand: t.startCommand,
    rootfsSize: t.rootfsSize,
    volumes: [],
    ports: t.ports.map((p) => ({ type: p.type, ports: [...p.ports] })),
    envs: t.envs.map((e) => ({ ...e })),
    tools: [],
  };
}
