import type { VersionMetrics } from '../../src/analysis/types';
import type { Rng } from './random';

/** Latency is lognormal: median 50 ms, σ 0.6 (stable p99 ≈ 200 ms). */
const MEDIAN_MS = 50;
const SIGMA = 0.6;

function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 via erf; accurate to ~1e-7, plenty for bin probabilities.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

function latencyCdf(ms: number, scale: number): number {
  return ms <= 0 ? 0 : normalCdf(Math.log(ms / (MEDIAN_MS * scale)) / SIGMA);
}

/** Bin upper edges: fine in the tail, where p99 comparisons happen; the last bin is open. */
export const BIN_EDGES_MS: readonly number[] = (() => {
  const edges: number[] = [];
  for (let ms = 5; ms < 5000; ms *= 1.05) edges.push(Number(ms.toFixed(3)));
  return edges;
})();

function binsOf(cdf: (ms: number) => number): number[] {
  const probabilities: number[] = [];
  let previous = 0;
  for (const edge of BIN_EDGES_MS) {
    const value = cdf(edge);
    probabilities.push(value - previous);
    previous = value;
  }
  probabilities.push(1 - previous);
  return probabilities;
}

/** "Slower for everyone": every request takes `scale` × as long (scale 1.5 → p99 +50%). */
export function binProbabilities(scale: number): number[] {
  return binsOf((ms) => latencyCdf(ms, scale));
}

const Z90 = 1.2816;
const Z99 = 2.3263;

/**
 * "Slow tail only": requests up to the stable p90 are unchanged; slower ones are stretched (a power
 * law in x / p90) until the p99 is `p99Factor` × the stable p99. The median does not move at all.
 */
export function tailBinProbabilities(p99Factor: number): number[] {
  const p90 = MEDIAN_MS * Math.exp(Z90 * SIGMA);
  const p99 = MEDIAN_MS * Math.exp(Z99 * SIGMA);
  const k = Math.log((p99 * p99Factor) / p90) / Math.log(p99 / p90);
  return binsOf((ms) => latencyCdf(ms <= p90 ? ms : p90 * (ms / p90) ** (1 / k), 1));
}

/** What one version did in one chunk of time: the router's view, with a latency histogram. */
export interface ArmChunk {
  requests: number;
  errors: number;
  bins: number[];
}

export interface VersionProfile {
  errorRate: number;
  binProbabilities: number[];
}

export function sampleArm(rng: Rng, meanRequests: number, profile: VersionProfile): ArmChunk {
  const requests = rng.poisson(meanRequests);
  return {
    requests,
    errors: rng.binomial(requests, profile.errorRate),
    bins: rng.multinomial(requests, profile.binProbabilities),
  };
}

export function emptyArm(): ArmChunk {
  return { requests: 0, errors: 0, bins: new Array(BIN_EDGES_MS.length + 1).fill(0) };
}

export function addArm(into: ArmChunk, chunk: ArmChunk): void {
  into.requests += chunk.requests;
  into.errors += chunk.errors;
  for (let i = 0; i < chunk.bins.length; i++)
    into.bins[i] = (into.bins[i] as number) + (chunk.bins[i] as number);
}

/** Like the router: the upper edge of the bin holding the q-th request. */
export function quantile(arm: ArmChunk, q: number): number | null {
  if (arm.requests === 0) return null;
  const rank = Math.max(1, Math.ceil(q * arm.requests));
  let seen = 0;
  for (let i = 0; i < arm.bins.length; i++) {
    seen += arm.bins[i] as number;
    if (seen >= rank) return BIN_EDGES_MS[i] ?? 10_000;
  }
  return 10_000;
}

/** Requests in bins wholly above `ms`, the same rule the router uses. */
export function countAbove(arm: ArmChunk, ms: number): number {
  let count = 0;
  for (let i = 0; i < arm.bins.length; i++) {
    const lower = i === 0 ? 0 : (BIN_EDGES_MS[i - 1] as number);
    if (lower >= ms) count += arm.bins[i] as number;
  }
  return count;
}

/** The router's view of one arm; slow counts at one bound (revision 1) or at several (revision 2). */
export function toMetrics(
  version: string,
  arm: ArmChunk,
  slowerThanMs: number | null,
  boundsMs: number[] | null = null,
): VersionMetrics {
  return {
    version,
    requests: arm.requests,
    errors: arm.errors,
    p50Ms: quantile(arm, 0.5),
    p99Ms: quantile(arm, 0.99),
    ...(slowerThanMs === null ? {} : { slowRequests: countAbove(arm, slowerThanMs) }),
    ...(boundsMs === null ? {} : { slowCounts: boundsMs.map((ms) => countAbove(arm, ms)) }),
  };
}

export const STABLE_P99_MS = MEDIAN_MS * Math.exp(2.3263 * SIGMA);
