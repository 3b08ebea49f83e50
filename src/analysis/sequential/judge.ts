import type { AnalysisConfig } from '../../spec/analysis';
import { resourceChecks } from '../resource-limits';
import { type AnalysisRevision, CURRENT_REVISION, unarmedSummary } from '../revision';
import { failedChecks, sampleSizeCheck } from '../sample-size';
import type { CheckEvidence, Verdict, VersionMetrics } from '../types';
import {
  initialLatencyBounds,
  startLatencyStage,
  updateLatencyBounds,
  type LatencyBoundsState,
} from './latency-bounds';
import { boundsEvidence } from './latency-evidence';
import { emptyMixture, logBayesFactor, type MixtureState, updateMixture } from './mixture-test';
import { round } from '../round';

interface Counts {
  requests: number;
  errors: number;
  slow: number | null;
}

/** Everything the sequential judge carries from poll to poll; plain data, kept in workflow state. */
export interface SequentialState {
  errors: MixtureState;
  latency: MixtureState;
  /** "Slow" for the latency test: fixed once chosen, so both versions are judged by one bound. */
  slowThresholdMs: number | null;
  /** The previous cumulative reading in this stage; null at a stage start (counters restart at 0). */
  previous: { canary: Counts; baseline: Counts } | null;
  intervals: number;
  /**
   * Revision 2's latency test (latency-bounds.ts). Absent in states carried from runs that started
   * before it existed; created at the next stage start then.
   */
  latencyBounds?: LatencyBoundsState;
}

export function initialSequentialState(fixedSlowThresholdMs: number | null = null): SequentialState {
  return {
    errors: emptyMixture(),
    latency: emptyMixture(),
    slowThresholdMs: fixedSlowThresholdMs,
    previous: null,
    intervals: 0,
    latencyBounds: initialLatencyBounds(fixedSlowThresholdMs),
  };
}

/** Metrics restart at each stage; the evidence does not (see mixture-test.ts). */
export function startStage(state: SequentialState): SequentialState {
  const bounds = state.latencyBounds ?? initialLatencyBounds(state.slowThresholdMs);
  return { ...state, previous: null, latencyBounds: startLatencyStage(bounds) };
}

export interface SequentialInput {
  state: SequentialState;
  /** Cumulative since the stage started. */
  canary: VersionMetrics;
  baseline: VersionMetrics;
  config: AnalysisConfig;
  minCanaryRequests: number;
  /** Defaults to the current rules; workflows pass what patched() says. */
  revision?: AnalysisRevision;
  /** Names this poll's stage in the evidence ("stage 2"), where a reference may come from. */
  stageLabel?: string;
}

/** Baseline requests needed before its p99 may define "slow". */
export const MIN_BASELINE_FOR_SLOW_THRESHOLD = 200;

const countsOf = (m: VersionMetrics): Counts => ({
  requests: m.requests,
  errors: m.errors,
  slow: m.slowRequests ?? null,
});

function delta(now: Counts, before: Counts | undefined): Counts | null {
  const prev = before ?? { requests: 0, errors: 0, slow: 0 };
  const d = { requests: now.requests - prev.requests, errors: now.errors - prev.errors };
  // A counter that went backwards was reset underneath us: skip the interval rather than guess.
  if (d.requests < 0 || d.errors < 0) return null;
  const slow = now.slow !== null && prev.slow !== null ? now.slow - prev.slow : null;
  return { ...d, slow: slow !== null && slow >= 0 ? slow : null };
}

function evidence(
  name: string,
  test: MixtureState,
  threshold: number,
  canary: number,
  baseline: number,
  note: string,
): CheckEvidence {
  const logBF = logBayesFactor(test);
  return {
    name,
    canary: round(canary),
    baseline: round(baseline),
    limit: round(threshold, 2),
    statistic: round(Math.exp(Math.min(logBF, 700)), 3),
    passed: logBF < Math.log(threshold),
    note: `${note}; Bayes factor ${Math.exp(Math.min(logBF, 700)).toPrecision(3)} vs ${threshold} (canary ${test.canaryEvents} / baseline ${test.baselineEvents} events)`,
  };
}

/**
 * One poll of the sequential mode. Rejects as soon as either mixture Bayes factor reaches 2/α (α is
 * split between the error and the latency test), at any sample size; passes only once the canary
 * has served minCanaryRequests in this stage.
 */
export function judgeSequential(input: SequentialInput): { verdict: Verdict; state: SequentialState } {
  const { canary, baseline, config, minCanaryRequests } = input;
  let state = input.state;
  const now = { canary: countsOf(canary), baseline: countsOf(baseline) };
  const dc = delta(now.canary, state.previous?.canary);
  const db = delta(now.baseline, state.previous?.baseline);
  if (dc && db && dc.requests + db.requests > 0) {
    const share = dc.requests / (dc.requests + db.requests);
    state = {
      ...state,
      intervals: state.intervals + 1,
      errors: updateMixture(state.errors, dc.errors, db.errors, share),
    };
    if (dc.slow !== null && db.slow !== null)
      state = { ...state, latency: updateMixture(state.latency, dc.slow, db.slow, share) };
  }
  state = { ...state, previous: now };

  const threshold = 2 / config.alpha;
  const rate = (m: VersionMetrics): number => (m.requests > 0 ? m.errors / m.requests : 0);
  let latencyCheck: CheckEvidence;
  if ((input.revision ?? CURRENT_REVISION) === 1) {
    ({ state, check: latencyCheck } = legacyLatency(state, canary, baseline, threshold));
  } else if (config.latency === 'off') {
    latencyCheck = latencyOff(canary, baseline);
  } else {
    const bounds = updateLatencyBounds(
      state.latencyBounds ?? startLatencyStage(initialLatencyBounds(config.latencyThresholdMs ?? null)),
      canary,
      baseline,
      input.stageLabel ?? 'this stage',
    );
    state = { ...state, latencyBounds: bounds };
    latencyCheck = boundsEvidence(bounds, config, threshold, canary, baseline, minCanaryRequests);
  }
  const checks: CheckEvidence[] = [
    evidence(
      'error-rate',
      state.errors,
      threshold,
      rate(canary),
      rate(baseline),
      `error rate this stage ${canary.errors}/${canary.requests} vs ${baseline.errors}/${baseline.requests}`,
    ),
    latencyCheck,
    ...resourceChecks(canary, config),
  ];
  const sample = sampleSizeCheck(
    canary,
    baseline,
    minCanaryRequests,
    'canary requests this stage needed before a pass',
  );
  checks.push(sample);
  const enough = sample.passed === true;

  const failed = failedChecks(checks);
  const base = { checks, canary, baseline };
  if (failed.length > 0) {
    return {
      state,
      verdict: { ...base, result: 'fail', summary: failed.map((c) => `${c.name}: ${c.note}`).join('; ') },
    };
  }
  if (!enough) {
    return {
      state,
      verdict: {
        ...base,
        result: 'inconclusive',
        summary: `only ${canary.requests} of ${minCanaryRequests} canary requests needed for a pass`,
      },
    };
  }
  const unarmed = checks.filter((c) => c.unarmed !== undefined);
  if (unarmed.length > 0) {
    return {
      state,
      verdict: { ...base, result: 'inconclusive', summary: unarmedSummary(unarmed) },
    };
  }
  return {
    state,
    verdict: {
      ...base,
      result: 'pass',
      summary: `no regression detected over ${canary.requests} canary requests`,
    },
  };
}

function latencyOff(canary: VersionMetrics, baseline: VersionMetrics): CheckEvidence {
  return {
    name: 'latency',
    canary: canary.p99Ms,
    baseline: baseline.p99Ms,
    limit: null,
    passed: null,
    note: 'not judged: analysis.latency is off in the spec',
  };
}

/** Revision 1's latency test, unchanged: one bound, fixed once the baseline served 200 requests. */
function legacyLatency(
  input: SequentialState,
  canary: VersionMetrics,
  baseline: VersionMetrics,
  threshold: number,
): { state: SequentialState; check: CheckEvidence } {
  let state = input;
  if (
    state.slowThresholdMs === null &&
    baseline.requests >= MIN_BASELINE_FOR_SLOW_THRESHOLD &&
    baseline.p99Ms !== null
  ) {
    // Chosen from data already judged, so it is fixed before the counts it will classify.
    state = { ...state, slowThresholdMs: baseline.p99Ms };
  }

  const check = evidence(
    'latency',
    state.latency,
    threshold,
    canary.p99Ms ?? 0,
    baseline.p99Ms ?? 0,
    state.slowThresholdMs === null
      ? 'slow bound not chosen yet'
      : `requests slower than ${round(state.slowThresholdMs, 1)}ms; p99 this stage ${canary.p99Ms}ms vs ${baseline.p99Ms}ms`,
  );
  return { state, check };
}
