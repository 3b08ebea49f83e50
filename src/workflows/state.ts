import type { AnalysisState } from '../analysis/judge';
import type { Verdict, VerdictResult } from '../analysis/types';
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

/** What one version had done in the window so far, as of one poll (cumulative within the window). */
export interface SeriesVersion {
  requests: number;
  errors: number;
  p99Ms: number | null;
}

/** One poll, as the dashboard plots it. */
export interface SeriesPoint {
  /** Workflow time of the poll, epoch ms. */
  at: number;
  /** Start of the window the counts are cumulative over, epoch ms: a new value is a new window. */
  windowStartedAt: number;
  /** state.stageIndex when the poll ran. */
  stage: number;
  /** The new version's traffic share when the poll ran. */
  weight: number;
  /** How many polls the point stands for (more once downsampled); its result is the worst of them. */
  polls: number;
  result: VerdictResult;
  stable: SeriesVersion;
  canary: SeriesVersion;
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
  /**
   * One point per poll for the dashboard's plots, bounded and downsampled (series.ts). Absent in
   * the state of runs started before the series existed.
   */
  series?: SeriesPoint[];
  /** When the first check failed or the first step broke: where time-to-rollback is measured from. */
  firstFailureAt?: string | null;
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

/** The hold a manual blue-green gate records: it waits for a human (metrics and alerts count it so). */
export const MANUAL_GATE_REASON = 'waiting for a promote signal';
