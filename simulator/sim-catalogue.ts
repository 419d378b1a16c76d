/**
 * Clusters, GPU products, capacity, templates and registry auths.
 *
 * Product model: one product entry per (cluster, GPU model). The same model name ("RTX 4090 24GB")
 * appears once per cluster that offers it, each with its own id ("<slug>-<clusterId>", opaque to
 * clients), its own prices and a `regions` list holding just that cluster's name. Capacity is counted in GPUs per product entry, i.e. per (cluster, model).
 */

export interface SimCluster {
  id: string;
  name: string;
  supportNetworkStorage: boolean;
  supportInstanceNetwork: boolean;
}

export interface SimProduct {
  id: string;
  name: string;
  clusterId: string;
  cpuPerGpu: number;
  memoryPerGpu: number;
  diskPerGpu: number;
  minRootFS: number;
  maxRootFS: number;
  minLocalStorage: number;
  maxLocalStorage: number;
  /** On-demand price per GPU-hour in 1/100,000 USD. */
  price: number;
  /** 0 when spot is not offered. */
  spotPrice: number;
  /** GPUs free right now. */
  capacity: number;
}

export interface SimTemplate {
  Id: string;
  /** Unix-seconds string. */
  createTime: string;
  name: string;
  image: string;
  imageAuth: string;
  startCommand: string;
  rootfsSize: number;
  ports: { type: 'http' | 'tcp'; ports: number[] }[];
  envs: { key: string; value: string }[];
}

export interface SimRepositoryAuth {
  id: string;
  name: string;
  username: string;
  password: string;
}

const CLUSTERS: SimCluster[] = [
  {
    id: 'as-sgp-2',
    name: 'AS-SGP-02 (Singapore)',
    supportNetworkStorage: true,
    supportInstanceNetwork: true,
  },
  { id: 'cn-hk-1', name: 'CN-HK-01 (Hong Kong)', supportNetworkStorage: true, supportInstanceNetwork: false },
  { id: 'as-in-1', name: 'AS-IN-01 (Mumbai)', supportNetworkStorage: false, supportInstanceNetwork: false },
  { id: 'us-ca-6', name: 'US-CA-06 (California)', supportNetworkStorage: true, supportInstanceNetwork: true },
  { id: 'eu-de-1', name: 'EU-DE-01 (Frankfurt)', supportNetworkStorage: true, supportInstanceNetwork: false },
];

interface ModelSpec {
  name: string;
  slug: string;
  cpuPerGpu: number;
  memoryPerGpu: number;
  diskPerGpu: number;
  maxRootFS: number;
}

const MODELS: ModelSpec[] = [
  {
    name: 'RTX 4090 24GB',
    slug: 'rtx4090-24gb',
    cpuPerGpu: 16,
    memoryPerGpu: 62,
    diskPerGpu: 200,
    maxRootFS: 500,
  },
  {
    name: 'RTX 3090 24GB',
    slug: 'rtx3090-24gb',
    cpuPerGpu: 12,
    memoryPerGpu: 46,
    diskPerGpu: 150,
    maxRootFS: 400,
  },
  { name: 'L40S 48GB', slug: 'l40s-48gb', cpuPerGpu: 16, memoryPerGpu: 92, diskPerGpu: 300, maxRootFS: 800 },
  {
    name: 'A100 80GB',
    slug: 'a100-80gb',
    cpuPerGpu: 16,
    memoryPerGpu: 120,
    diskPerGpu: 500,
    maxRootFS: 1000,
  },
  {
    name: 'H100 80GB',
    slug: 'h100-80gb',
    cpuPerGpu: 24,
    memoryPerGpu: 200,
    diskPerGpu: 800,
    maxRootFS: 2000,
  },
];

/** [model slug, cluster id, on-demand price, spot price (0 = none), GPUs free]. Prices differ per region on purpose. */
const OFFERS: [string, string, number, number, number][] = [
  ['rtx4090-24gb', 'as-sgp-2', 35_000, 17_000, 16],
  ['rtx4090-24gb', 'cn-hk-1', 34_000, 16_000, 8],
  ['rtx4090-24gb', 'as-in-1', 31_000, 15_000, 4],
  ['rtx4090-24gb', 'us-ca-6', 39_000, 19_000, 32],
  ['rtx4090-24gb', 'eu-de-1', 37_000, 18_000, 8],
  ['rtx3090-24gb', 'as-sgp-2', 21_000, 10_000, 16],
  ['rtx3090-24gb', 'cn-hk-1', 20_000, 9_000, 8],
  ['rtx3090-24gb', 'as-in-1', 18_000, 8_500, 8],
  ['rtx3090-24gb', 'eu-de-1', 22_000, 0, 8],
  ['l40s-48gb', 'cn-hk-1', 86_000, 43_000, 8],
  ['l40s-48gb', 'us-ca-6', 89_000, 0, 8],
  ['a100-80gb', 'as-sgp-2', 129_000, 65_000, 8],
  ['a100-80gb', 'us-ca-6', 119_000, 59_000, 16],
  ['a100-80gb', 'eu-de-1', 125_000, 62_000, 8],
  ['h100-80gb', 'as-sgp-2', 259_000, 0, 8],
  ['h100-80gb', 'us-ca-6', 249_000, 129_000, 16],
  ['h100-80gb', 'eu-de-1', 255_000, 130_000, 8],
];

const TEMPLATES: SimTemplate[] = [
  {
    Id: '212',
    createTime: '1713162260',
    name: 'PyTorch 2.4 / CUDA 12.4',
    image: 'ghcr.io/sim/pytorch:2.4-cuda12.4',
    imageAuth: '',
    startCommand: 'python -m http.server 8080',
    rootfsSize: 60,
    ports: [
      { type: 'http', ports: [8080, 8888] },
      { type: 'tcp', ports: [22] },
    ],
    envs: [{ key: 'JUPYTER_TOKEN', value: 'sim' }],
  },
  {
    Id: '305',
    createTime: '1722470400',
    name: 'Private vLLM server',
    image: 'registry.sim.local/team/vllm:0.6',
    imageAuth: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    startCommand: 'vllm serve /models/llm --port 8000',
    rootfsSize: 100,
    ports: [{ type: 'http', ports: [8000] }],
    envs: [],
  },
];

const REPOSITORY_AUTHS: SimRepositoryAuth[] = [
  {
    id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    name: 'registry.sim.local',
    username: 'sim-bot',
    password: 'sim-registry-secret',
  },
  {
    id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
    name: 'docker.io',
    username: 'simuser',
    password: 'dockerhub-token',
  },
];

export class SimCatalogue {
  readonly clusters: SimCluster[];
  readonly products: SimProduct[];
  readonly templates: SimTemplate[];
  readonly repositoryAuths: SimRepositoryAuth[];

  constructor() {
    this.clusters = CLUSTERS.map((c) => ({ ...c }));
    this.products = OFFERS.map(([slug, clusterId, price, spotPrice, capacity]) => {
      const m = MODELS.find((x) => x.slug === slug)!;
      return {
        id: `${slug}-${clusterId}`,
        name: m.name,
        clusterId,
        cpuPerGpu: m.cpuPerGpu,
        memoryPerGpu: m.memoryPerGpu,
        diskPerGpu: m.diskPerGpu,
        minRootFS: 10,
        maxRootFS: m.maxRootFS,
        minLocalStorage: 0,
        maxLocalStorage: m.diskPerGpu * 8,
        price,
        spotPrice,
        capacity,
      };
    });
    this.templates = TEMPLATES.map((t) => structuredClone(t));
    this.repositoryAuths = REPOSITORY_AUTHS.map((a) => ({ ...a }));
  }

  cluster(id: string): SimCluster | undefined {
    return this.clusters.find((c) => c.id === id);
  }

  product(id: string): SimProduct | undefined {
    return this.products.find((p) => p.id === id);
  }

  /** Accepts a cluster id, a full cluster name, or the name's region part ("AS-SGP-02"). */
  resolveCluster(ref: string): SimCluster | undefined {
    const key = ref.trim().toLowerCase();
    return this.clusters.find(
      (c) => c.id === key || c.name.toLowerCase() === key || c.name.split(' ')[0].toLowerCase() === key,
    );
  }

  /** Product entries matching an id, or a model name (in one cluster or in all when clusterRef is omitted). */
  resolveProducts(productRef: string, clusterRef?: string): SimProduct[] {
    const byId = this.product(productRef);
    if (byId) return [byId];
    const cluster = clusterRef === undefined ? undefined : this.resolveCluster(clusterRef);
    if (clusterRef !== undefined && !cluster) return [];
    const name = productRef.trim().toLowerCase();
    return this.products.filter(
      (p) => p.name.toLowerCase() === name && (!cluster || p.clusterId === cluster.id),
    );
  }

  billingMethods(p: SimProduct): BillingMethodList {
    return p.spotPrice > 0 ? ['onDemand', 'monthly', 'spot'] : ['onDemand', 'monthly'];
  }

  template(id: string): SimTemplate | undefined {
    return this.templates.find((t) => t.Id === id);
  }
}

type BillingMethodList = ('onDemand' | 'monthly' | 'spot')[];
