export * from './types';
export { judgeThreshold, type ThresholdInput } from './threshold';
