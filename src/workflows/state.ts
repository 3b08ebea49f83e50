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
  /** Outside the spec's deploy windows, or during a freeze: waiting before traffic moves forward. */
  | 'waiting-for-window'
  /** Running the expand migrations (before any traffic reaches the new version). */
  | 'migrating'
  /** Promoted and stabilized; waiting out migrations.contractAfter before the contract step. */
  | 'awaiting-contract'
  | 'contracting'
  /** `rollout undo`: putting the previous version back. */
  | 'undoing'
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
  | 'config'
  /** A migration step ran, was skipped, refused or cancelled; or allowBreaking let a finding through. */
  | 'migration'
  /** The rollout waited for a deploy window or a freeze, or went on once it opened. */
  | 'schedule'
  /** A `rollout undo` step: health of the previous version, switch or redeploy. */
  | 'undo';

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
  /** Expand/contract migrations, when the spec has them. */
  migration?: MigrationState;
  /** Set while waiting for a deploy window or the end of a freeze. */
  gate?: GateState | null;
  /** Set by `rollout undo`. */
  undo?: UndoState;
  abortReason: string | null;
  outcome: Outcome | null;
  details: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export type MigrationPhase =
  | 'pending'
  | 'expanding'
  | 'expanded'
  | 'awaiting-contract'
  | 'contracting'
  | 'contracted'
  /** A rollback, an abort or a failure ended the rollout: contract never runs. */
  | 'contract-cancelled'
  | 'failed';

/** Where the rollout's expand/contract migrations stand (absent when the spec has none). */
export interface MigrationState {
  phase: MigrationPhase;
  /** Whether the spec has a contract step: what a rollback cancels. */
  hasContract: boolean;
  /** Files (or the command) each step applied, and those the ledger said were applied already. */
  expand: { applied: string[]; skipped: string[] } | null;
  contract: { applied: string[]; skipped: string[] } | null;
  /** When the contract step may run (promotion + stabilization + contractAfter), ISO. */
  contractAt: string | null;
}

/** A wait for a deploy window or a freeze to end (null when not waiting). */
export interface GateState {
  /** Why: outside the spec's windows, a freeze in the spec, or the fleet-wide freeze. */
  reason: 'outside-window' | 'spec-freeze' | 'fleet-freeze' | 'freeze-unknown';
  /** "waiting for deploy window (opens Mon 09:00 Europe/Berlin)" */
  label: string;
  /** When it opens, if known, ISO. */
  opensAt: string | null;
  since: string;
  /** What it is waiting to do: the first traffic, or the stage it would advance to. */
  before: string;
}

/** What a `rollout undo` is doing (undo workflows only). */
export interface UndoState {
  reason: string;
  /** The version taken out, and the one put back. */
  from: string;
  to: string;
  /** switch: the previous version was still up and healthy; redeploy: it was deployed again first. */
  method: 'switch' | 'redeploy' | null;
}

export interface RolloutResult {
  outcome: Outcome;
  state: RolloutState;
}

export const RECENT_VERDICTS_KEPT = 20;

/** The hold a manual blue-green gate records: it waits for a human (metrics and alerts count it so). */
export const MANUAL_GATE_REASON = 'waiting for a promote signal';
