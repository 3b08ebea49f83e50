/** What one version did over one window, as a metrics provider reports it. */
export interface VersionMetrics {
  version: string;
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Requests slower than the bound the sequential latency test asked for, when the source can count them. */
  slowRequests?: number | null;
  /** Requests slower than each of the bounds the latency test asked for, in order; null where the source can't count. */
  slowCounts?: (number | null)[];
  cpuPercent?: number | null;
  memoryPercent?: number | null;
}

export type VerdictResult = 'pass' | 'fail' | 'inconclusive';

/** One rule applied to the numbers: what was compared, against what limit, and whether it held. */
export interface CheckEvidence {
  name: string;
  canary: number | null;
  baseline: number | null;
  limit: number | null;
  /** The test statistic, where there is one (a Bayes factor for the sequential tests). */
  statistic?: number;
  passed: boolean | null;
  note: string;
  /** Set when the check cannot judge yet, with what it waits for: the verdict is then never a pass. */
  unarmed?: string;
  /** A ceiling (CPU, memory) whose failure fails the verdict whatever the sample size. */
  hard?: true;
}

export interface Verdict {
  result: VerdictResult;
  summary: string;
  checks: CheckEvidence[];
  canary: VersionMetrics;
  baseline: VersionMetrics;
}
