export { canaryRollout, type CanaryRolloutInput } from './canary';
export { blueGreenRollout, type BlueGreenRolloutInput } from './blue-green';
