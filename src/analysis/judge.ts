import type { AnalysisConfig } from '../spec/analysis';
import type { AnalysisRevision } from './revision';
import {
  initialSequentialState,
  judgeSequential,
  type SequentialState,
  startStage,
} from './sequential/judge';
import { judgeThreshold } from './threshold';
import type { Verdict, VersionMetrics } from './types';

export type AnalysisState = SequentialState;

export function initialAnalysisState(config: AnalysisConfig): AnalysisState {
  return initialSequentialState(config.latencyThresholdMs ?? null);
}

export { startStage, type AnalysisRevision };

export interface JudgeInput {
  state: AnalysisState;
  canary: VersionMetrics;
  baseline: VersionMetrics;
  config: AnalysisConfig;
  minCanaryRequests: number;
  revision?: AnalysisRevision;
  stageLabel?: string;
}

/** One poll's verdict in the configured mode; the state carries sequential evidence between polls. */
export function judge(input: JudgeInput): { verdict: Verdict; state: AnalysisState } {
  if (input.config.mode === 'threshold') return { verdict: judgeThreshold(input), state: input.state };
  return judgeSequential(input);
}
