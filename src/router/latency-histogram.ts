const MIN_MS = 0.1;
const MAX_MS = 120_000;
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Index of the bucket whose upper bound first reaches MAX_MS; slower samples are clamped into it. */
const LAST_INDEX = Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_GROWTH);

function indexFor(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(LAST_INDEX, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

function upperBound(index: number): number {
  return MIN_MS * GROWTH ** index;
}

/**
 * Log-spaced latency histogram (~5% relative error). Stored sparsely because most
 * per-second buckets only ever see a handful of distinct latencies.
 */
export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  get count(): number {
    return this.total;
  }

  record(ms: number): void {
    const value = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const index = indexFor(value);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.total += 1;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
  }

  merge(other: LatencyHistogram): void {
    for (const [index, count] of other.counts) {
      this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    }
    this.total += other.total;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /**
   * Samples in buckets wholly above the bucket holding `ms`. Coarse, but the same rule applies to
   * every version, which is what a comparison between versions needs.
   */
  countAbove(ms: number): number {
    const threshold = indexFor(ms);
    let above = 0;
    for (const [index, count] of this.counts) if (index > threshold) above += count;
    return above;
  }

  /**
   * Reports the upper bound of the bucket holding the q-th sample, so the estimate never
   * understates latency; clamped to the observed range so a single sample reads exactly.
   */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.total));
    const indices = [...this.counts.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const index of indices) {
      seen += this.counts.get(index) ?? 0;
      if (seen >= rank) {
        // The last bucket is open-ended, so its only honest upper bound is the observed max.
        const bound = index === LAST_INDEX ? this.max : upperBound(index);
        return Math.min(this.max, Math.max(this.min, bound));
      }
    }
    return this.max;
  }
}
