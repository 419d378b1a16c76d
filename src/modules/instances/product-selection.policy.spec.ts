import { Cluster, GpuProduct } from '../../infra/novita/novita.types';
import {
  RegionCandidate,
  buildRegionOrder,
  compareCandidates,
  findCluster,
  isUnknownProduct,
  planProductSelection,
  regionCodeOf,
  unitPriceFor,
} from './product-selection.policy';

const clusters: Cluster[] = [
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
    name: 'US-CA-06',
    availableGpuTypes: [],
    supportNetworkStorage: true,
    supportInstanceNetwork: true,
  },
];

function product(over: Partial<GpuProduct> & { id: string; regions: string[] }): GpuProduct {
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

const base = { productName: 'RTX 4090', billingMode: 'spot' as const, gpuNum: 1, rootfsSize: 60, clusters };

describe('product selection policy', () => {
  it('extracts the region code from a cluster name', () => {
    expect(regionCodeOf('AS-SGP-02 (Singapore)')).toBe('AS-SGP-02');
    expect(regionCodeOf(' us-ca-06 ')).toBe('US-CA-06');
  });

  it('orders the preferred region first, then the fallback order, without duplicates', () => {
    expect(buildRegionOrder('CN-HK-01', ['AS-SGP-02', 'CN-HK-01', 'US-CA-06'])).toEqual([
      'CN-HK-01',
      'AS-SGP-02',
      'US-CA-06',
    ]);
    expect(buildRegionOrder(undefined, ['AS-SGP-02'])).toEqual(['AS-SGP-02']);
  });

  it('maps a region to its cluster by name prefix, or by id', () => {
    expect(findCluster('AS-SGP-02', clusters)?.id).toBe('as-sgp-2');
    expect(findCluster('cn-hk-1', clusters)?.id).toBe('cn-hk-1');
    expect(findCluster('EU-DE-01', clusters)).toBeUndefined();
  });

  it('picks the cheapest product with capacity in each region, by spot price for spot', () => {
    const products = [
      product({ id: 'a', regions: ['AS-SGP-02 (Singapore)'], spotPrice: 0.2, onDemandPrice: 0.3 }),
      product({ id: 'b', regions: ['AS-SGP-02 (Singapore)'], spotPrice: 0.15, onDemandPrice: 0.5 }),
      product({ id: 'c', regions: ['AS-SGP-02 (Singapore)'], spotPrice: 0.1, availableDeploy: false }),
    ];
    const spot = planProductSelection({ ...base, regions: ['AS-SGP-02'], products });
    expect(spot[0].candidate?.product.id).toBe('b');
    expect(spot[0].candidate?.unitPrice).toBe(0.15);
    expect(spot[0].candidate?.clusterId).toBe('as-sgp-2');

    // onDemand is ranked by the on-demand price, not by spot price (previous bug 13).
    const onDemand = planProductSelection({
      ...base,
      billingMode: 'onDemand',
      regions: ['AS-SGP-02'],
      products,
    });
    expect(onDemand[0].candidate?.product.id).toBe('a');
    expect(onDemand[0].candidate?.unitPrice).toBe(0.3);
  });

  it('skips products without a spot price for spot, but not for on-demand', () => {
    const products = [
      product({
        id: 'nospot',
        regions: ['CN-HK-01 (Hong Kong)'],
        spotPrice: null,
        billingMethods: ['onDemand'],
      }),
    ];
    const spot = planProductSelection({ ...base, regions: ['CN-HK-01'], products });
    expect(spot[0]).toEqual({
      region: 'CN-HK-01',
      candidate: null,
      reason: 'spot billing not offered in CN-HK-01',
    });
    const onDemand = planProductSelection({
      ...base,
      billingMode: 'onDemand',
      regions: ['CN-HK-01'],
      products,
    });
    expect(onDemand[0].candidate?.product.id).toBe('nospot');
  });

  it('breaks price ties by memory, then CPU, then id', () => {
    const products = [
      product({ id: 'z', regions: ['US-CA-06'], memoryPerGpu: 62, cpuPerGpu: 16 }),
      product({ id: 'y', regions: ['US-CA-06'], memoryPerGpu: 80, cpuPerGpu: 8 }),
      product({ id: 'x', regions: ['US-CA-06'], memoryPerGpu: 80, cpuPerGpu: 8 }),
    ];
    expect(planProductSelection({ ...base, regions: ['US-CA-06'], products })[0].candidate?.product.id).toBe(
      'x',
    );
  });

  it('gives a reason for every region it cannot use, in the order tried', () => {
    const products = [
      product({ id: 'sgp', regions: ['AS-SGP-02 (Singapore)'], availableDeploy: false }),
      product({ id: 'hk', regions: ['CN-HK-01 (Hong Kong)'], maxRootFS: 50 }),
      product({ id: 'ca', regions: ['US-CA-06'] }),
      product({ id: 'other', name: 'A100 80GB', regions: ['AS-SGP-02 (Singapore)'] }),
    ];
    const plan = planProductSelection({
      ...base,
      regions: ['EU-DE-01', 'AS-SGP-02', 'CN-HK-01', 'US-CA-06'],
      products,
    });
    expect(
      plan.map((p) => (p.candidate ? `${p.region}:${p.candidate.product.id}` : `${p.region}:${p.reason}`)),
    ).toEqual([
      'EU-DE-01:unknown region EU-DE-01 (no such cluster)',
      'AS-SGP-02:no capacity in AS-SGP-02 (availableDeploy=false)',
      'CN-HK-01:rootfsSize 60 GB exceeds the product maximum in CN-HK-01',
      'US-CA-06:ca',
    ]);
  });

  it('ignores products whose name does not match, even if the server returned them', () => {
    const products = [product({ id: 'a100', name: 'A100 80GB', regions: ['US-CA-06'] })];
    const plan = planProductSelection({ ...base, regions: ['US-CA-06'], products });
    expect(plan[0]).toEqual({
      region: 'US-CA-06',
      candidate: null,
      reason: 'no "RTX 4090" product offered in US-CA-06',
    });
  });

  it('treats a zero spot price as no spot offer', () => {
    expect(unitPriceFor(product({ id: 'p', regions: [], spotPrice: 0 }), 'spot')).toBeNull();
    expect(unitPriceFor(product({ id: 'p', regions: [], spotPrice: 0 }), 'monthly')).toBe(0.35);
  });

  it("offers one product listed in two regions in both, with each region's cluster", () => {
    const both = product({ id: 'multi', regions: ['AS-SGP-02 (Singapore)', 'CN-HK-01 (Hong Kong)'] });
    const plan = planProductSelection({ ...base, regions: ['CN-HK-01', 'AS-SGP-02'], products: [both] });
    expect(plan.map((p) => [p.region, p.candidate?.product.id, p.candidate?.clusterId])).toEqual([
      ['CN-HK-01', 'multi', 'cn-hk-1'],
      ['AS-SGP-02', 'multi', 'as-sgp-2'],
    ]);
    expect(plan[0].candidate).toMatchObject({ region: 'CN-HK-01', unitPrice: 0.17 });
  });

  it('accepts rootfsSize equal to maxRootFS and refuses one GB more', () => {
    const p = product({ id: 'edge', regions: ['US-CA-06'], maxRootFS: 100 });
    const at = planProductSelection({ ...base, rootfsSize: 100, regions: ['US-CA-06'], products: [p] });
    expect(at[0].candidate?.product.id).toBe('edge');
    const over = planProductSelection({ ...base, rootfsSize: 101, regions: ['US-CA-06'], products: [p] });
    expect(over[0]).toMatchObject({
      candidate: null,
      reason: 'rootfsSize 101 GB exceeds the product maximum in US-CA-06',
    });
  });

  it('treats a missing maxRootFS as no limit', () => {
    const p = product({ id: 'nolimit', regions: ['US-CA-06'], maxRootFS: 0 });
    const plan = planProductSelection({ ...base, rootfsSize: 6000, regions: ['US-CA-06'], products: [p] });
    expect(plan[0].candidate?.product.id).toBe('nolimit');
  });

  it('skips products whose billing methods exclude the mode, but keeps those that list none', () => {
    const spotless = product({ id: 'od-only', regions: ['US-CA-06'], billingMethods: ['onDemand'] });
    const unlisted = product({ id: 'any', regions: ['AS-SGP-02 (Singapore)'], billingMethods: [] });
    const plan = planProductSelection({
      ...base,
      regions: ['US-CA-06', 'AS-SGP-02'],
      products: [spotless, unlisted],
    });
    expect(plan[0]).toMatchObject({ candidate: null, reason: 'spot billing not offered in US-CA-06' });
    expect(plan[1].candidate?.product.id).toBe('any');
    const onDemand = planProductSelection({
      ...base,
      billingMode: 'onDemand',
      regions: ['US-CA-06'],
      products: [spotless],
    });
    expect(onDemand[0].candidate).toMatchObject({ unitPrice: 0.35 });
  });

  it('skips a product without a spot price even when it lists spot billing', () => {
    const p = product({
      id: 'nospot',
      regions: ['US-CA-06'],
      spotPrice: null,
      billingMethods: ['spot', 'onDemand'],
    });
    const plan = planProductSelection({ ...base, regions: ['US-CA-06'], products: [p] });
    expect(plan[0]).toEqual({
      region: 'US-CA-06',
      candidate: null,
      reason: 'spot billing not offered in US-CA-06',
    });
  });

  it('prices on-demand and monthly by the on-demand price, spot by the spot price', () => {
    const p = product({ id: 'p', regions: [], spotPrice: 0.1, onDemandPrice: 0.3 });
    expect(unitPriceFor(p, 'spot')).toBe(0.1);
    expect(unitPriceFor(p, 'onDemand')).toBe(0.3);
    expect(unitPriceFor(p, 'monthly')).toBe(0.3);
    expect(unitPriceFor(product({ id: 'q', regions: [], spotPrice: null }), 'spot')).toBeNull();
  });

  it('orders candidates by price first, then memory, CPU and id, each only as a tie-break', () => {
    const c = (id: string, unitPrice: number, memoryPerGpu = 62, cpuPerGpu = 16): RegionCandidate => ({
      region: 'R',
      clusterId: 'c',
      unitPrice,
      product: product({ id, regions: [], memoryPerGpu, cpuPerGpu }),
    });
    expect(compareCandidates(c('a', 0.1), c('b', 0.2))).toBeLessThan(0);
    expect(compareCandidates(c('a', 0.2), c('b', 0.1))).toBeGreaterThan(0);
    expect(compareCandidates(c('a', 0.1, 32), c('b', 0.1, 64))).toBeGreaterThan(0);
    expect(compareCandidates(c('a', 0.1, 64, 8), c('b', 0.1, 64, 16))).toBeGreaterThan(0);
    expect(compareCandidates(c('b', 0.1), c('a', 0.1))).toBeGreaterThan(0);
    expect(compareCandidates(c('a', 0.1), c('a', 0.1))).toBe(0);
    // A cheaper product wins even with less memory.
    expect(compareCandidates(c('a', 0.1, 8), c('b', 0.2, 80))).toBeLessThan(0);
  });

  it('matches product names case-insensitively as a trimmed substring', () => {
    const products = [product({ id: 'p', name: 'NVIDIA RTX 4090 24GB', regions: ['US-CA-06'] })];
    expect(isUnknownProduct(products, '  rtx 4090 ')).toBe(false);
    expect(isUnknownProduct(products, 'RTX 5090')).toBe(true);
    expect(isUnknownProduct([], 'RTX 4090')).toBe(true);
    const plan = planProductSelection({
      ...base,
      productName: ' rtx 4090 ',
      regions: ['US-CA-06'],
      products,
    });
    expect(plan[0].candidate?.product.id).toBe('p');
  });

  it('finds clusters by region code case-insensitively, and by id', () => {
    expect(findCluster('as-sgp-02', clusters)?.id).toBe('as-sgp-2');
    expect(findCluster(' US-CA-06 ', clusters)?.id).toBe('us-ca-6');
    expect(findCluster('CN-HK-1', clusters)?.id).toBe('cn-hk-1');
    expect(findCluster(' cn-hk-1 ', clusters)?.id).toBe('cn-hk-1');
    expect(findCluster('EU-DE-01', clusters)).toBeUndefined();
    expect(regionCodeOf('  as-sgp-02   (Singapore) ')).toBe('AS-SGP-02');
    expect(buildRegionOrder(' ', ['a', '', 'A'])).toEqual(['A']);
    expect(buildRegionOrder(undefined, [])).toEqual([]);
  });
});
