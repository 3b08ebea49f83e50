import type { RolloutSummary } from '../client/rollouts';
import { webUiWorkflowUrl } from '../temporal/links';
import type { RolloutState } from '../workflows/state';
import { plotData, type PlotData } from './plot-data';

/** One row of the list: from visibility, and from the rollout's state where it could be read. */
export interface ListRow {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, … */
  status: string;
  startTime: string;
  closeTime: string | null;
  service: string;
  strategy: string;
  phase: string | null;
  canaryWeight: number | null;
  outcome: string | null;
  paused: boolean;
  /** Why the state could not be read (no worker answered, say); the row then has visibility's fields only. */
  stateError: string | null;
}

const STRATEGY_OF_TYPE: Record<string, string> = {
  canaryRollout: 'canary',
  blueGreenRollout: 'blue-green',
  undoRollout: 'undo',
};

const strategyOfType = (type: string): string => STRATEGY_OF_TYPE[type] ?? type;

export function listRow(summary: RolloutSummary, state: RolloutState | Error): ListRow {
  const base = {
    workflowId: summary.workflowId,
    status: summary.status,
    startTime: summary.startTime,
    closeTime: summary.closeTime,
  };
  if (state instanceof Error) {
    return {
      ...base,
      service: summary.workflowId.replace(/^rollout-/, ''),
      strategy: strategyOfType(summary.type),
      phase: null,
      canaryWeight: null,
      outcome: null,
      paused: false,
      stateError: state.message,
    };
  }
  return {
    ...base,
    service: state.service,
    strategy: state.strategy,
    phase: state.phase,
    canaryWeight: state.weights.canary,
    outcome: state.outcome,
    paused: state.paused,
    stateError: null,
  };
}

/**
 * What the page shows of a rollout. The state is passed on without the sequential tests' carried
 * evidence (internal, and large) and the raw series (the plots are made from it here).
 */
export interface RolloutView {
  workflowId: string;
  runId: string;
  status: string;
  /** Whether the page should keep polling: the workflow is still running. */
  running: boolean;
  webUiLink: string;
  state: Omit<RolloutState, 'analysis' | 'series' | 'recentVerdicts'>;
  plots: PlotData;
}

export interface RolloutDetail {
  workflowId: string;
  runId: string;
  status: string;
  state: RolloutState;
}

export function rolloutView(detail: RolloutDetail, webUiUrl: string, namespace: string): RolloutView {
  const { analysis: _analysis, series, recentVerdicts: _recent, ...state } = detail.state;
  return {
    workflowId: detail.workflowId,
    runId: detail.runId,
    status: detail.status,
    running: detail.status === 'RUNNING',
    webUiLink: webUiWorkflowUrl(webUiUrl, namespace, detail.workflowId),
    state,
    plots: plotData({
      startedAt: state.startedAt,
      until: state.finishedAt ?? state.updatedAt,
      series,
      decisions: state.decisions,
    }),
  };
}
