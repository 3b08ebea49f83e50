import type { CanarySpec } from '../spec/canary';
import { nowIso } from './control';
import type { RolloutState } from './state';

export function initialState(spec: CanarySpec): RolloutState {
  const now = nowIso();
  return {
    service: spec.service,
    strategy: 'canary',
    stableVersion: spec.stable.version,
    canaryVersion: spec.canary.version,
    phase: 'starting',
    stageIndex: -1,
    stageWeights: spec.stages.map((s) => s.weight),
    weights: { stable: 100, canary: 0 },
    paused: false,
    pauseReason: null,
    window: null,
    lastVerdict: null,
    recentVerdicts: [],
    verdictCount: 0,
    decisions: [],
    abortReason: null,
    outcome: null,
    details: '',
    startedAt: now,
    updatedAt: now,
    finishedAt: null,
  };
}
