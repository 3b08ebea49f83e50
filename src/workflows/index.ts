export { canaryRollout, type CanaryRolloutInput } from './canary';
export { blueGreenRollout, type BlueGreenRolloutInput } from './blue-green';
export { fleetFreeze, type FleetFreezeInput } from './fleet-freeze';
