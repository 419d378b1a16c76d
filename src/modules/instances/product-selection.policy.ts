import { BillingMode, Cluster, GpuProduct } from '../../infra/novita/novita.types';

/**
 * Pure product selection: which product to create in which region, in which order. No I/O, so every
 * rule is unit-tested. The create service walks the plan and moves on when Novita itself answers
 * INSUFFICIENT_RESOURCES.
 */

export interface SelectionInput {
  productName: string;
  billingMode: BillingMode;
  gpuNum: number;
  rootfsSize: number;
  /** Regions to try, best first (see buildRegionOrder). */
  regions: string[];
  products: GpuProduct[];
  clusters: Cluster[];
}

export interface RegionCandidate {
  region: string;
  clusterId: string;
  product: GpuProduct;
  /** USD per GPU-hour for the billing mode. */
  unitPrice: number;
}

export type RegionPlanEntry =
  { region: string; candidate: RegionCandidate } | { region: string; candidate: null; reason: string };

/** "AS-SGP-02 (Singapore)" → "AS-SGP-02": Novita lists cluster names, the region code is the part before the first space. */
export function regionCodeOf(clusterOrRegionName: string): string {
  return clusterOrRegionName.trim().split(/\s+/)[0].toUpperCase();
}

/** Preferred region first, then the configured fallback order, without duplicates. */
export function buildRegionOrder(preferred: string | undefined, fallbackOrder: string[]): string[] {
  const order = [preferred, ...fallbackOrder]
    .filter((r): r is string => !!r && r.trim() !== '')
    .map(regionCodeOf);
  return [...new Set(order)];
}

export function findCluster(region: string, clusters: Cluster[]): Cluster | undefined {
  const code = regionCodeOf(region);
  return (
    clusters.find((c) => regionCodeOf(c.name) === code) ??
    clusters.find((c) => c.id.toLowerCase() === region.trim().toLowerCase())
  );
}

/** Price per GPU-hour for the billing mode, or null when the product does not offer that mode. */
export function unitPriceFor(product: GpuProduct, mode: BillingMode): number | null {
  if (mode === 'spot') return product.spotPrice !== null && product.spotPrice > 0 ? product.spotPrice : null;
  return product.onDemandPrice;
}

/** Cheapest first; ties go to more memory, then more CPU per GPU, then the id, so the choice is stable. */
export function compareCandidates(a: RegionCandidate, b: RegionCandidate): number {
  return (
    a.unitPrice - b.unitPrice ||
    b.product.memoryPerGpu - a.product.memoryPerGpu ||
    b.product.cpuPerGpu - a.product.cpuPerGpu ||
    a.product.id.localeCompare(b.product.id)
  );
}

function matchesName(product: GpuProduct, productName: string): boolean {
  return product.name.toLowerCase().includes(productName.trim().toLowerCase());
}

/** True when no product of the list carries the name at all: the caller asked for something that does not exist. */
export function isUnknownProduct(products: GpuProduct[], productName: string): boolean {
  return !products.some((p) => matchesName(p, productName));
}

/** One entry per region, in order: the best candidate there, or why the region cannot be used. */
export function planProductSelection(input: SelectionInput): RegionPlanEntry[] {
  const named = input.products.filter((p) => matchesName(p, input.productName));
  return input.regions.map((region): RegionPlanEntry => {
    const cluster = findCluster(region, input.clusters);
    if (!cluster) return { region, candidate: null, reason: `unknown region ${region} (no such cluster)` };
    const inRegion = named.filter((p) => p.regions.some((r) => regionCodeOf(r) === region));
    if (inRegion.length === 0)
      return { region, candidate: null, reason: `no "${input.productName}" product offered in ${region}` };
    const available = inRegion.filter((p) => p.availableDeploy);
    if (available.length === 0)
      return { region, candidate: null, reason: `no capacity in ${region} (availableDeploy=false)` };
    const priced = available
      .map((product) => ({ product, unitPrice: unitPriceFor(product, input.billingMode) }))
      .filter((x): x is { product: GpuProduct; unitPrice: number } => x.unitPrice !== null)
      .filter(
        ({ product }) =>
          product.billingMethods.length === 0 || product.billingMethods.includes(input.billingMode),
      );
    if (priced.length === 0)
      return { region, candidate: null, reason: `${input.billingMode} billing not offered in ${region}` };
    const fitting = priced.filter(
      ({ product }) => !product.maxRootFS || product.maxRootFS >= input.rootfsSize,
    );
    if (fitting.length === 0) {
      return {
        region,
        candidate: null,
        reason: `rootfsSize ${input.rootfsSize} GB exceeds the product maximum in ${region}`,
      };
    }
    const candidates = fitting.map(({ product, unitPrice }) => ({
      region,
      clusterId: cluster.id,
      product,
      unitPrice,
    }));
    candidates.sort(compareCandidates);
    return { region, candidate: candidates[0] };
  });
}
