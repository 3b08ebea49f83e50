import type { AnalysisConfig } from '../../spec/analysis';
import type { VersionMetrics } from '../types';
import { addOddsEvidence, emptyOddsEvidence, intervalLogLR, logOddsBayesFactor } from './odds-ratio-test';

/**
 * The latency test: requests slower than a few bounds, judged by the exact conditional odds-ratio
 * test at each bound. The bounds come from the baseline's own latency (its median catches "slower
 * for everyone", its p99 a slow tail) or from analysis.latencyThresholdMs. Each bound slot keeps its
 * own mixture across stages and the test averages them, which keeps the false-rollback bound.
 *
 * Bounds are predictable: chosen from baseline readings taken before the counts they classify (the
 * stable version before the rollout, or an earlier stage). They may change at a stage start, where
 * the counters restart anyway, or mid-stage while the reference is still small; a mid-stage change
 * skips one interval, because the previous reading was taken at the old bounds.
 */

/** The baseline reading the bounds were chosen from. */
export interface LatencyReference {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Where it came from: "before the rollout", "stage 2", … */
  source: string;
}

interface SlowSnapshot {
  canaryRequests: number;
  baselineRequests: number;
  canarySlow: (number | null)[];
  baselineSlow: (number | null)[];
}

export interface LatencyBoundsState {
  /** A fixed bound from the spec: one slot that never changes. */
  fixedBoundMs: number | null;
  /** The largest baseline reading so far: the next bounds come from it. */
  reference: LatencyReference | null;
  boundsMs: number[] | null;
  /** The reading the current bounds came from (reference moves on; this is the evidence). */
  boundsReference: LatencyReference | null;
  /** The previous cumulative reading at boundsMs in this stage; null at a stage start (all zero). */
  previous: SlowSnapshot | null;
  /** The bounds changed mid-stage: the next reading only becomes `previous`. */
  skipNext: boolean;
  /** ln likelihood ratios per slot, per odds ratio; carried across stages. */
  logLR: number[][];
  /** Canary requests in intervals the test has classified, this stage and in all. */
  judgedThisStage: number;
  judgedTotal: number;
  /** Slow requests counted per slot over the whole rollout, for the evidence. */
  slow: { canary: number[]; baseline: number[] };
  /** Whether the last reading at the bounds carried slow counts; null before the first. */
  countsReported: boolean | null;
}

/** How much slower than the baseline a canary may be before its requests count as slow. */
export interface LatencyTolerance {
  ratio: number;
  ms: number;
}

/** The spec's tolerance, as the latency test takes it. */
export const latencyTolerance = (config: AnalysisConfig): LatencyTolerance => ({
  ratio: config.latencyToleranceRatio,
  ms: config.latencyToleranceMs,
});

/** The canary's bound for a baseline bound: under H0 "no slower than the tolerance", still valid. */
export const canaryBound = (boundMs: number, tolerance: LatencyTolerance): number =>
  Math.max(boundMs * tolerance.ratio, boundMs + tolerance.ms);

/**
 * What a poll asks the metrics source to count: the baseline's bounds, then the canary's. Under
 * H0 (the canary at most the tolerance slower) the canary's rate above its bound is no higher than
 * the baseline's above the bound, so the conditional test stays a supermartingale.
 */
export function requestedBounds(state: LatencyBoundsState, tolerance: LatencyTolerance): number[] | null {
  if (state.boundsMs === null) return null;
  return [...state.boundsMs, ...state.boundsMs.map((b) => canaryBound(b, tolerance))];
}

/** A reference smaller than this is replaced mid-stage once the stage's baseline is REFINE_FACTOR× larger. */
const REFINE_BELOW = 500;
const REFINE_FACTOR = 10;

const slotCount = (fixedBoundMs: number | null): number => (fixedBoundMs === null ? 2 : 1);

export function initialLatencyBounds(fixedBoundMs: number | null): LatencyBoundsState {
  const slots = slotCount(fixedBoundMs);
  return {
    fixedBoundMs,
    reference: null,
    boundsMs: fixedBoundMs === null ? null : [fixedBoundMs],
    boundsReference: null,
    previous: null,
    skipNext: false,
    logLR: Array.from({ length: slots }, emptyOddsEvidence),
    judgedThisStage: 0,
    judgedTotal: 0,
    slow: { canary: new Array<number>(slots).fill(0), baseline: new Array<number>(slots).fill(0) },
    countsReported: null,
  };
}

/** Keeps the largest baseline reading with latency as the reference; it never chooses bounds by itself. */
export function offerReference(
  state: LatencyBoundsState,
  baseline: VersionMetrics,
  source: string,
): LatencyBoundsState {
  const { p50Ms, p99Ms, requests } = baseline;
  if (p50Ms === null || p99Ms === null || !(p50Ms > 0) || requests <= 0) return state;
  if (state.reference !== null && state.reference.requests >= requests) return state;
  return { ...state, reference: { requests, p50Ms, p99Ms: Math.max(p50Ms, p99Ms), source } };
}

function boundsFrom(state: LatencyBoundsState): number[] | null {
  if (state.fixedBoundMs !== null) return [state.fixedBoundMs];
  const ref = state.reference;
  return ref === null ? null : [ref.p50Ms, ref.p99Ms];
}

/** At a stage start: counters restart at 0, so new bounds cost nothing. */
export function startLatencyStage(state: LatencyBoundsState): LatencyBoundsState {
  return {
    ...state,
    boundsMs: boundsFrom(state),
    boundsReference: state.reference,
    previous: null,
    skipNext: false,
    judgedThisStage: 0,
  };
}

const sameBounds = (a: number[] | null, b: number[] | null): boolean =>
  a !== null && b !== null && a.length === b.length && a.every((v, i) => v === b[i]);

/** Mid-stage: arm the test as soon as there is a reference, or refine a small reference once. */
function rechooseMidStage(state: LatencyBoundsState, stageBaseline: VersionMetrics): LatencyBoundsState {
  if (state.fixedBoundMs !== null) return state;
  const armed = state.boundsMs !== null;
  // Judged against the reading the current bounds came from: `reference` has already moved on.
  const used = state.boundsReference;
  const small = used !== null && used.requests < REFINE_BELOW;
  const grown = used !== null && stageBaseline.requests >= REFINE_FACTOR * used.requests;
  if (armed && !(small && grown)) return state;
  const next = boundsFrom(state);
  if (next === null || sameBounds(next, state.boundsMs)) return state;
  return { ...state, boundsMs: next, boundsReference: state.reference, previous: null, skipNext: true };
}

/** slowCounts follow requestedBounds: the baseline's at [0, slots), the canary's at [slots, 2 × slots). */
const snapshot = (canary: VersionMetrics, baseline: VersionMetrics, slots: number): SlowSnapshot => {
  const slow = (m: VersionMetrics, offset: number): (number | null)[] =>
    Array.from({ length: slots }, (_, k) => m.slowCounts?.[offset + k] ?? null);
  return {
    canaryRequests: canary.requests,
    baselineRequests: baseline.requests,
    canarySlow: slow(canary, slots),
    baselineSlow: slow(baseline, 0),
  };
};

/**
 * Adds one poll (cumulative per-stage metrics, slow counts at requestedBounds), then offers the
 * stage's baseline as a reference and arms or refines the bounds for the next poll.
 */
export function updateLatencyBounds(
  state: LatencyBoundsState,
  canary: VersionMetrics,
  baseline: VersionMetrics,
  stageLabel: string,
): LatencyBoundsState {
  let next = state;
  if (state.boundsMs !== null) {
    const now = snapshot(canary, baseline, state.logLR.length);
    const reported = now.canarySlow.some((v) => v !== null) && now.baselineSlow.some((v) => v !== null);
    next = { ...next, countsReported: reported };
    if (state.skipNext) {
      next = { ...next, previous: now, skipNext: false };
    } else {
      const before = state.previous;
      const dc = now.canaryRequests - (before?.canaryRequests ?? 0);
      const db = now.baselineRequests - (before?.baselineRequests ?? 0);
      let judged = false;
      const logLR = state.logLR.map((slot) => [...slot]);
      const slow = { canary: [...state.slow.canary], baseline: [...state.slow.baseline] };
      if (dc >= 0 && db >= 0) {
        for (let k = 0; k < logLR.length; k++) {
          const c = now.canarySlow[k] ?? null;
          const b = now.baselineSlow[k] ?? null;
          const pc = before === null ? 0 : (before.canarySlow[k] ?? null);
          const pb = before === null ? 0 : (before.baselineSlow[k] ?? null);
          if (c === null || b === null || pc === null || pb === null) continue;
          if (c - pc < 0 || b - pb < 0) continue; // a counter reset underneath us
          judged = true;
          const counts = {
            canaryRequests: dc,
            baselineRequests: db,
            canarySlow: c - pc,
            baselineSlow: b - pb,
          };
          logLR[k] = addOddsEvidence(logLR[k] as number[], intervalLogLR(counts));
          slow.canary[k] = (slow.canary[k] as number) + counts.canarySlow;
          slow.baseline[k] = (slow.baseline[k] as number) + counts.baselineSlow;
        }
      }
      next = {
        ...next,
        logLR,
        slow,
        previous: now,
        judgedThisStage: next.judgedThisStage + (judged ? dc : 0),
        judgedTotal: next.judgedTotal + (judged ? dc : 0),
      };
    }
  }
  next = offerReference(next, baseline, stageLabel);
  return rechooseMidStage(next, baseline);
}

/** ln of the latency Bayes factor: the slots' mixtures, averaged. */
export function logLatencyBayesFactor(state: LatencyBoundsState): number {
  const logs = state.logLR.map(logOddsBayesFactor);
  const max = Math.max(...logs);
  return max + Math.log(logs.reduce((sum, v) => sum + Math.exp(v - max), 0) / logs.length);
}

/** Why the test cannot judge a pass yet, or null when it has classified enough canary requests. */
export function latencyUnarmedReason(state: LatencyBoundsState, minCanaryRequests: number): string | null {
  if (state.boundsMs === null) {
    return 'waiting for baseline latency to choose the slow bounds (no baseline p50/p99 reported yet)';
  }
  if (state.judgedThisStage >= minCanaryRequests) return null;
  if (state.countsReported === false) {
    return 'the metrics source reports no slow-request counts at the bounds (see "Metrics providers")';
  }
  return `${state.judgedThisStage} of ${minCanaryRequests} canary requests judged for latency this stage`;
}
