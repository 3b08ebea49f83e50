export { canaryRollout, type CanaryRolloutInput } from './canary';
export { blueGreenRollout, type BlueGreenRolloutInput } from './blue-green';
export { undoRollout, type UndoRolloutInput } from './undo';
export { fleetFreeze, type FleetFreezeInput } from './fleet-freeze';
