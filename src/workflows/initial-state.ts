import { initialAnalysisState } from '../analysis/judge';
import type { AnalysisConfig } from '../spec/analysis';
import { nowIso } from './control';
import type { RolloutState } from './state';

export interface StateSeed {
  service: string;
  strategy: RolloutState['strategy'];
  stableVersion: string | null;
  canaryVersion: string;
  stageWeights: number[];
  analysis: AnalysisConfig;
}

export function initialState(spec: StateSeed): RolloutState {
  const now = nowIso();
  const decisions: RolloutState['decisions'] = [];
  if (spec.analysis.latency === 'off') {
    decisions.push({
      at: now,
      kind: 'config',
      stage: null,
      weight: 0,
      reason: 'latency is not judged: analysis.latency is off in the spec, so stages pass on errors alone',
    });
  }
  return {
    service: spec.service,
    strategy: spec.strategy,
    environments: null,
    stableVersion: spec.stableVersion,
    canaryVersion: spec.canaryVersion,
    phase: 'starting',
    stageIndex: -1,
    stageWeights: spec.stageWeights,
    weights: { stable: 100, canary: 0 },
    paused: false,
    pauseReason: null,
    window: null,
    lastVerdict: null,
    recentVerdicts: [],
    verdictCount: 0,
    series: [],
    firstFailureAt: null,
    analysis: initialAnalysisState(spec.analysis),
    decisions,
    abortReason: null,
    outcome: null,
    details: '',
    startedAt: now,
    updatedAt: now,
    finishedAt: null,
  };
}
