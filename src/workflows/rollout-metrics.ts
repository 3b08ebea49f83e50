import { metricMeter, workflowInfo } from '@temporalio/workflow';
import type { Verdict } from '../analysis/types';
import { MANUAL_GATE_REASON, type Phase, type RolloutState } from './state';

/**
 * Rollout metrics, sent through the workflow's metric meter: the SDK drops them while a history
 * replays, so a worker restart or a cache eviction never counts a rollout twice. The worker's
 * Prometheus exporter (ROLLOUT_METRICS_ADDRESS) serves them next to the SDK's own; their names and
 * labels are listed in the README under "Metrics". Names carry no unit suffix: the exporter adds
 * `_total` to counters.
 */
export const ROLLOUT_METRIC = {
  started: 'rollout_started',
  ended: 'rollout_ended',
  canaryWeight: 'rollout_canary_weight',
  phase: 'rollout_phase',
  verdicts: 'rollout_verdicts',
  failureToRollback: 'rollout_failure_to_rollback_seconds',
  rollbackConvergence: 'rollout_rollback_convergence_seconds',
  holdsWaiting: 'rollout_holds_waiting',
} as const;

const PHASES: readonly Phase[] = [
  'starting',
  'deploying',
  'health-checking',
  'smoke-testing',
  'monitoring',
  'validating',
  'awaiting-promotion',
  'switching',
  'post-switch',
  'paused',
  'promoting',
  'stabilizing',
  'rolling-back',
  'waiting-for-window',
  'migrating',
  'awaiting-contract',
  'contracting',
  'undoing',
  'promoted',
  'rolled-back',
  'aborted',
  'failed',
];

function labels(state: RolloutState): { service: string; strategy: string } {
  return { service: state.service, strategy: state.strategy };
}

export function countStarted(state: RolloutState): void {
  metricMeter.createCounter(ROLLOUT_METRIC.started, '1', 'Rollouts started').add(1, labels(state));
}

export function countEnded(state: RolloutState): void {
  metricMeter
    .createCounter(ROLLOUT_METRIC.ended, '1', 'Rollouts ended, by outcome')
    .add(1, { ...labels(state), outcome: state.outcome ?? 'unknown' });
}

export function countVerdict(state: RolloutState, verdict: Verdict): void {
  metricMeter
    .createCounter(ROLLOUT_METRIC.verdicts, '1', 'Analysis verdicts, one per poll, by result')
    .add(1, { ...labels(state), result: verdict.result });
}

/**
 * Whether the rollout held itself until a human acts: an inconclusive window under
 * onInconclusive: pause, or a manual blue-green gate. An operator's own pause is not counted.
 */
export function waitingForHuman(state: RolloutState): boolean {
  if (state.outcome !== null) return false;
  if (state.paused && state.window?.holdingForInconclusive === true) return true;
  if (state.phase !== 'awaiting-promotion') return false;
  for (let i = state.decisions.length - 1; i >= 0; i--) {
    const decision = state.decisions[i]!;
    if (decision.kind === 'hold') return decision.reason === MANUAL_GATE_REASON;
  }
  return false;
}

// What this run last published, so a touch that changed none of it sends nothing. Keyed by the
// run's own state object; never set while replaying, when the SDK drops metrics, so the first touch
// after a worker restart publishes again.
const published = new WeakMap<RolloutState, string>();

/**
 * The gauges follow the state: touch() calls this on every change. Gauges are per service, so the
 * last run of a service to touch its state is what they show, which is what an operator asks
 * ("what is payments at now?"). The phase gauge is 1 for the current phase and 0 for every other,
 * as Argo's rollout_phase is, so `rollout_phase == 1` selects one series per service.
 */
export function publishGauges(state: RolloutState): void {
  const holds = waitingForHuman(state) ? 1 : 0;
  const key = `${state.phase}/${state.weights.canary}/${holds}`;
  if (published.get(state) === key) return;
  if (!workflowInfo().unsafe.isReplaying) published.set(state, key);
  const service = { service: state.service };
  metricMeter
    .createGauge(ROLLOUT_METRIC.canaryWeight, 'int', '%', "The new version's traffic share")
    .set(state.weights.canary, service);
  metricMeter
    .createGauge(
      ROLLOUT_METRIC.holdsWaiting,
      'int',
      '1',
      'Rollouts held until a human resumes, aborts or promotes',
    )
    .set(holds, service);
  const phase = metricMeter.createGauge(ROLLOUT_METRIC.phase, 'int', '1', 'The rollout phase (1 = current)');
  for (const name of PHASES) phase.set(name === state.phase ? 1 : 0, { ...labels(state), phase: name });
}

/** Stable is back at 100%: how long since the first failure (if one caused it) and since the rollback began. */
export function observeRollback(state: RolloutState, rollbackStartedMs: number): void {
  const now = Date.now();
  metricMeter
    .createHistogram(
      ROLLOUT_METRIC.rollbackConvergence,
      'float',
      's',
      'From the rollback decision to stable confirmed at 100%',
    )
    .record((now - rollbackStartedMs) / 1000, labels(state));
  if (state.firstFailureAt) {
    metricMeter
      .createHistogram(
        ROLLOUT_METRIC.failureToRollback,
        'float',
        's',
        'From the first failing check to stable confirmed at 100%',
      )
      .record(Math.max(0, now - Date.parse(state.firstFailureAt)) / 1000, labels(state));
  }
}

/** Bucket bounds in seconds for the two rollback histograms (the exporter's defaults are for ms). */
export const ROLLBACK_SECONDS_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800];
