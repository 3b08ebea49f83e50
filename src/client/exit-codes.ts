/** Exit statuses of the rollout CLI, documented in the README. */
export const EXIT = {
  promoted: 0,
  notPromoted: 1,
  invalidInput: 2,
  alreadyRunning: 3,
  unavailable: 4,
} as const;
