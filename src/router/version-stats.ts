import { LatencyHistogram } from './latency-histogram';

const SECOND_MS = 1000;
export const DEFAULT_RETENTION_MS = 60 * 60 * 1000;

interface SecondBucket {
  requests: number;
  errors: number;
  latency: LatencyHistogram;
}

export interface VersionTotals {
  requests: number;
  errors: number;
  firstRequestAt: number | null;
  firstErrorAt: number | null;
  lastRequestAt: number | null;
}

export interface WindowMetrics {
  version: string;
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  slowRequests?: number;
  slowerThanMs?: number;
  /** Requests slower than each of boundsMs, in order (the latency test's counts). */
  slowCounts?: number[];
  boundsMs?: number[];
  sinceMs: number;
  untilMs: number;
}

export interface CompletedRequest {
  isError: boolean;
  latencyMs: number;
  /** Completion time, epoch ms. */
  at: number;
}

/**
 * Per-version request outcomes in one-second buckets, so analysis can ask about an arbitrary
 * recent window (e.g. "since the weight changed") without the router knowing about steps.
 */
export class VersionStats {
  private buckets = new Map<string, Map<number, SecondBucket>>();
  private totals = new Map<string, VersionTotals>();
  private lastPrunedSecond = Number.NEGATIVE_INFINITY;

  constructor(private readonly retentionMs: number = DEFAULT_RETENTION_MS) {}

  record(version: string, req: CompletedRequest): void {
    const second = Math.floor(req.at / SECOND_MS);
    let perSecond = this.buckets.get(version);
    if (perSecond === undefined) {
      perSecond = new Map();
      this.buckets.set(version, perSecond);
    }
    let bucket = perSecond.get(second);
    if (bucket === undefined) {
      bucket = { requests: 0, errors: 0, latency: new LatencyHistogram() };
      perSecond.set(second, bucket);
      this.prune(second);
    }
    bucket.requests += 1;
    bucket.latency.record(req.latencyMs);
    if (req.isError) bucket.errors += 1;

    const totals = this.totalsFor(version);
    totals.requests += 1;
    totals.firstRequestAt ??= req.at;
    totals.lastRequestAt = Math.max(totals.lastRequestAt ?? req.at, req.at);
    if (req.isError) {
      totals.errors += 1;
      totals.firstErrorAt ??= req.at;
    }
  }

  /** Includes the whole bucket containing sinceMs; the caller gets one-second granularity. */
  window(
    version: string,
    sinceMs: number,
    untilMs: number,
    slowerThanMs?: number,
    boundsMs?: number[],
  ): WindowMetrics {
    const fromSecond = Math.floor(sinceMs / SECOND_MS);
    const toSecond = Math.floor(untilMs / SECOND_MS);
    const latency = new LatencyHistogram();
    let requests = 0;
    let errors = 0;
    for (const [second, bucket] of this.buckets.get(version) ?? []) {
      if (second < fromSecond || second > toSecond) continue;
      requests += bucket.requests;
      errors += bucket.errors;
      latency.merge(bucket.latency);
    }
    return {
      version,
      requests,
      errors,
      errorRate: requests === 0 ? 0 : errors / requests,
      p50Ms: latency.quantile(0.5),
      p99Ms: latency.quantile(0.99),
      ...(slowerThanMs === undefined ? {} : { slowRequests: latency.countAbove(slowerThanMs), slowerThanMs }),
      ...(boundsMs === undefined
        ? {}
        : { slowCounts: boundsMs.map((ms) => latency.countAbove(ms)), boundsMs }),
      sinceMs,
      untilMs,
    };
  }

  snapshotTotals(): Record<string, VersionTotals> {
    const out: Record<string, VersionTotals> = {};
    for (const [version, totals] of this.totals) out[version] = { ...totals };
    return out;
  }

  reset(): void {
    this.buckets = new Map();
    this.totals = new Map();
    this.lastPrunedSecond = Number.NEGATIVE_INFINITY;
  }

  private totalsFor(version: string): VersionTotals {
    let totals = this.totals.get(version);
    if (totals === undefined) {
      totals = { requests: 0, errors: 0, firstRequestAt: null, firstErrorAt: null, lastRequestAt: null };
      this.totals.set(version, totals);
    }
    return totals;
  }

  /** Runs at most once per new second, so the full scan (≤ 3600 keys per version) stays cheap. */
  private prune(currentSecond: number): void {
    if (currentSecond <= this.lastPrunedSecond) return;
    this.lastPrunedSecond = currentSecond;
    const oldestKept = currentSecond - Math.ceil(this.retentionMs / SECOND_MS);
    for (const perSecond of this.buckets.values()) {
      for (const second of perSecond.keys()) {
        if (second < oldestKept) perSecond.delete(second);
      }
    }
  }
}
