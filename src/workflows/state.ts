import type { AnalysisState } from '../analysis/judge';
import type { Verdict } from '../analysis/types';
import type { EnvironmentName } from '../spec/blue-green';

export type Phase =
  | 'starting'
  | 'deploying'
  | 'health-checking'
  | 'smoke-testing'
  | 'monitoring'
  | 'validating'
  | 'awaiting-promotion'
  | 'switching'
  | 'post-switch'
  | 'paused'
  | 'promoting'
  | 'stabilizing'
  | 'rolling-back'
  | 'promoted'
  | 'rolled-back'
  | 'aborted'
  | 'failed';

export type Outcome = 'promoted' | 'rolled_back' | 'aborted' | 'failed';

export type DecisionKind =
  | 'deploy'
  | 'health'
  | 'smoke'
  | 'set-weight'
  | 'advance'
  | 'extend'
  | 'hold'
  | 'pause'
  | 'resume'
  | 'abort'
  | 'rollback'
  | 'promote'
  | 'promote-request'
  | 'retire'
  | 'error'
  /** A choice in the spec that changes what is judged (analysis.latency: off). */
  | 'config';

/** One thing the rollout decided, with the numbers that made it decide so. */
export interface Decision {
  at: string;
  kind: DecisionKind;
  stage: number | null;
  weight: number;
  reason: string;
  evidence?: unknown;
}

export interface Weights {
  stable: number;
  canary: number;
}

export interface WindowState {
  stage: number;
  startedAt: string;
  /** Monitoring time that counts towards the window: time spent paused does not. */
  elapsedMs: number;
  requiredMs: number;
  maxMs: number;
  polls: number;
  /** Paused by the inconclusive policy: a resume then advances the stage. */
  holdingForInconclusive: boolean;
}

export interface RolloutState {
  service: string;
  strategy: 'canary' | 'blue-green';
  /**
   * Blue-green only: which environment served users when the rollout started (`live`, running the
   * old version, `stableVersion`) and which got the new one (`idle`, running `canaryVersion`). The
   * names keep these meanings after the switch: weights.canary is always the new version's share.
   */
  environments: { live: EnvironmentName; idle: EnvironmentName } | null;
  /** The old version; null until a blue-green rollout has asked the router which one is live. */
  stableVersion: string | null;
  canaryVersion: string;
  phase: Phase;
  /** Index into stages of the stage in progress, -1 before the first. */
  stageIndex: number;
  stageWeights: number[];
  weights: Weights;
  paused: boolean;
  pauseReason: string | null;
  window: WindowState | null;
  lastVerdict: Verdict | null;
  /** The most recent verdicts, newest last; every poll adds one. */
  recentVerdicts: Verdict[];
  verdictCount: number;
  /** Evidence the sequential tests carry from poll to poll (and across stages). */
  analysis: AnalysisState;
  decisions: Decision[];
  abortReason: string | null;
  outcome: Outcome | null;
  details: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface RolloutResult {
  outcome: Outcome;
  state: RolloutState;
}

export const RECENT_VERDICTS_KEPT = 20;
