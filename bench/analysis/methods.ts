import {
  initialSequentialState,
  judgeSequential,
  startStage,
  type SequentialState,
} from '../../src/analysis/sequential/judge';
import {
  latencyTolerance,
  offerReference,
  requestedBounds,
} from '../../src/analysis/sequential/latency-bounds';
import type { AnalysisRevision } from '../../src/analysis/revision';
import { judgeThreshold } from '../../src/analysis/threshold';
import { DEFAULT_ANALYSIS } from '../../src/spec/analysis';
import { addArm, emptyArm, quantile, toMetrics, type ArmChunk } from './traffic-model';

export const CHUNK_SECONDS = 10;

export interface ChunkContext {
  /** Seconds since the rollout started, at the end of this chunk. */
  t: number;
  stageIndex: number;
  /** Seconds since the stage started, at the end of this chunk. */
  stageElapsed: number;
  stageSeconds: number;
  canary: ArmChunk;
  baseline: ArmChunk;
  /** The stable version over the minutes before the rollout (what the workflow reads first). */
  before: ArmChunk;
}

/** A way of deciding to roll back; sees the same chunks of traffic as every other method. */
export interface Method {
  name: string;
  /** True when the method rolls back at the end of this chunk. */
  onChunk(ctx: ChunkContext): boolean;
}

/** Per-stage cumulative arms, as the workflow reads them (metrics since the stage started). */
class StageTotals {
  canary = emptyArm();
  baseline = emptyArm();
  private stage = -1;

  add(ctx: ChunkContext): boolean {
    const newStage = ctx.stageIndex !== this.stage;
    if (newStage) {
      this.stage = ctx.stageIndex;
      this.canary = emptyArm();
      this.baseline = emptyArm();
    }
    addArm(this.canary, ctx.canary);
    addArm(this.baseline, ctx.baseline);
    return newStage;
  }
}

/**
 * durable-rollouts' sequential mode: the real judge, polled every pollSeconds, as the workflow runs
 * it (revision 2: the stable version's latency before the rollout chooses the slow bounds). Revision
 * 1 is the judge before latency was always judged, for a side-by-side baseline.
 */
export function sequentialMethod(
  pollSeconds: number,
  revision: AnalysisRevision = 2,
  minCanaryRequests = 100,
): Method {
  const totals = new StageTotals();
  let state: SequentialState = initialSequentialState();
  return {
    name: `sequential (poll ${pollSeconds}s)${revision === 1 ? ' rev 1' : ''}`,
    onChunk(ctx) {
      if (totals.add(ctx)) {
        if (revision === 2 && ctx.t === CHUNK_SECONDS && state.latencyBounds) {
          const before = toMetrics('v1', ctx.before, null);
          state = {
            ...state,
            latencyBounds: offerReference(state.latencyBounds, before, 'before the rollout'),
          };
        }
        state = startStage(state);
      }
      if (ctx.stageElapsed % pollSeconds !== 0) return false;
      const tolerance = latencyTolerance(DEFAULT_ANALYSIS);
      const bounds =
        revision === 2 && state.latencyBounds ? requestedBounds(state.latencyBounds, tolerance) : null;
      const slowerThan = revision === 1 ? state.slowThresholdMs : null;
      const judged = judgeSequential({
        state,
        canary: toMetrics('v2', totals.canary, slowerThan, bounds),
        baseline: toMetrics('v1', totals.baseline, slowerThan, bounds),
        config: DEFAULT_ANALYSIS,
        minCanaryRequests,
        revision,
      });
      state = judged.state;
      return judged.verdict.result === 'fail';
    },
  };
}

/** The seed's ratios (threshold mode), judged once at the end of each window on the whole window. */
export function thresholdAtWindowEnd(minCanaryRequests = 100): Method {
  const totals = new StageTotals();
  return {
    name: 'threshold (window end)',
    onChunk(ctx) {
      totals.add(ctx);
      if (ctx.stageElapsed !== ctx.stageSeconds) return false;
      const verdict = judgeThreshold({
        canary: toMetrics('v2', totals.canary, null),
        baseline: toMetrics('v1', totals.baseline, null),
        config: { ...DEFAULT_ANALYSIS, mode: 'threshold' },
        minCanaryRequests,
      });
      return verdict.result === 'fail';
    },
  };
}

/**
 * Flagger and Argo Rollouts style: every `intervalSeconds`, check the canary alone over that
 * interval against fixed limits an operator would configure (success rate ≥ 99%, p99 ≤ 1.2 × the
 * stable p99), and roll back once failures reach `failuresToRollback` (cumulative, never reset).
 */
export function intervalCountingMethod(
  name: string,
  intervalSeconds: number,
  failuresToRollback: number,
  p99LimitMs: number,
): Method {
  let window = emptyArm();
  let failures = 0;
  return {
    name,
    onChunk(ctx) {
      addArm(window, ctx.canary);
      if (ctx.t % intervalSeconds !== 0) return false;
      const measured = window;
      window = emptyArm();
      // No data is no verdict: Flagger halts on "no values found", it does not count a failure.
      if (measured.requests === 0) return false;
      const failed =
        measured.errors / measured.requests > 0.01 || (quantile(measured, 0.99) ?? 0) > p99LimitMs;
      if (failed) failures++;
      return failures >= failuresToRollback;
    },
  };
}
