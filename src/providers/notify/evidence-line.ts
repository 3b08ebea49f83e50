import type { CheckEvidence, Verdict } from '../../analysis/types';
import { failedChecks } from '../../analysis/sample-size';
import { errorRate, millis, percent, significant } from './figures';

type Phrase = (check: CheckEvidence, verdict: Verdict) => string;

const over = (v: Verdict): string => `over ${v.canary.requests} requests`;

const errorsVs = (v: Verdict): string =>
  `canary ${percent(errorRate(v.canary))} errors vs stable ${percent(errorRate(v.baseline))} ${over(v)}`;

const p99Vs = (v: Verdict): string =>
  `canary p99 ${millis(v.canary.p99Ms)} vs stable ${millis(v.baseline.p99Ms)} ${over(v)}`;

/**
 * What the check was held against: the sequential judges' Bayes factor and its rejection bound
 * (statistic and limit), or in threshold mode the limit alone, in the check's own unit.
 */
function against(check: CheckEvidence, unit: (limit: number) => string): string {
  const { statistic, limit } = check;
  if (limit === null) return '';
  if (statistic === undefined) return ` (limit ${unit(limit)})`;
  return `, Bayes factor ${significant(statistic)} ${statistic >= limit ? '≥' : '<'} ${significant(limit)}`;
}

/**
 * One phrase per check the judges write (sequential/judge.ts, latency-evidence.ts, threshold.ts,
 * resource-limits.ts, post-switch.ts). The rates and p99s come from the verdict's own metrics, so
 * they are the numbers the check judged, unrounded.
 */
const latency: Phrase = (c, v) => `${p99Vs(v)}${against(c, millis)}`;

const PHRASES: Record<string, Phrase> = {
  'error-rate': (c, v) => `${errorsVs(v)}${against(c, percent)}`,
  // Sequential mode judges slow-request counts; the p99s are what a human compares.
  latency,
  'p99-latency': latency,
  cpu: (c) => `canary CPU ${c.canary}%${against(c, (limit) => `${limit}%`)}`,
  memory: (c) => `canary memory ${c.canary}%${against(c, (limit) => `${limit}%`)}`,
  'absolute-error-rate': (c, v) =>
    `canary ${percent(errorRate(v.canary))} errors ${over(v)}${against(c, percent)}`,
  'absolute-p99': (c, v) => `canary p99 ${millis(v.canary.p99Ms)} ${over(v)}${against(c, millis)}`,
};

const fallback: Phrase = (c) =>
  `${c.name}: canary ${c.canary ?? 'unknown'} vs stable ${c.baseline ?? 'unknown'}${c.limit === null ? '' : ` (limit ${c.limit})`}`;

/**
 * Why a verdict failed, in one line a human reads in a notification: e.g. `canary 4.1% errors vs
 * stable 0.1% over 312 requests, Bayes factor 540 ≥ 200`. Null when no check failed.
 */
export function evidenceLine(verdict: Verdict | null): string | null {
  if (!verdict) return null;
  const phrases = failedChecks(verdict.checks).map((check) =>
    (PHRASES[check.name] ?? fallback)(check, verdict),
  );
  return phrases.length > 0 ? phrases.join('; ') : null;
}

/** Where the numbers stand when nothing failed (a hold, a passed stage): the error rates and p99s. */
export function numbersLine(verdict: Verdict | null): string | null {
  if (!verdict) return null;
  const { canary, baseline } = verdict;
  const p99 =
    canary.p99Ms === null || baseline.p99Ms === null
      ? ''
      : `; p99 ${millis(canary.p99Ms)} vs ${millis(baseline.p99Ms)}`;
  return `${errorsVs(verdict)}${p99}`;
}
