export * from './types';
export { judgeThreshold, type ThresholdInput } from './threshold';
export { judge, initialAnalysisState, startStage, type AnalysisState, type JudgeInput } from './judge';
export { judgeSequential, initialSequentialState, type SequentialState } from './sequential/judge';
export {
  RELATIVE_RISKS,
  emptyMixture,
  updateMixture,
  logBayesFactor,
  type MixtureState,
} from './sequential/mixture-test';
