export { canaryRollout, type CanaryRolloutInput } from './canary';
