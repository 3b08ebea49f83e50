import type { RolloutState } from '../workflows/state';

/** Exit statuses of the rollout CLI, documented in the README. */
export const EXIT = {
  promoted: 0,
  notPromoted: 1,
  invalidInput: 2,
  alreadyRunning: 3,
  unavailable: 4,
} as const;

/** Exit status of a finished rollout: only a promotion is a success. */
export function exitCodeFor(state: Pick<RolloutState, 'outcome'>): number {
  return state.outcome === 'promoted' ? EXIT.promoted : EXIT.notPromoted;
}
