/**
 * What a rollout tells the webhook about: it started, a stage passed, it waits for a human, traffic
 * restore still retrying, or how the rollout ended (the workflow's outcomes). Receivers switch on
 * it, so it is a closed set.
 */
export type RolloutEventName =
  | 'started'
  | 'stage-completed'
  | 'held'
  | 'rollback-retrying'
  | 'promoted'
  | 'rolled_back'
  | 'aborted'
  | 'failed';

export interface EventCopy {
  /** Human words for the event (the wire's `event` keeps the machine name). */
  label: string;
  /** Slack emoji shortcode, so a channel can be scanned by eye. */
  emoji: string;
  /** Lead with the failing checks' evidence line, when the verdict has one. */
  evidence: boolean;
  /** Show where the numbers stand (error rates, p99) even though nothing failed. */
  numbers: boolean;
  /** Show the traffic split the rollout left behind. */
  traffic: boolean;
}

/** One row per event: a new event fails to compile until it says how it reads. */
export const EVENT_COPY: Record<RolloutEventName, EventCopy> = {
  started: { label: 'rollout started', emoji: ':rocket:', evidence: false, numbers: false, traffic: false },
  'stage-completed': {
    label: 'stage passed',
    emoji: ':white_check_mark:',
    evidence: false,
    numbers: true,
    traffic: true,
  },
  held: { label: 'held for a human', emoji: ':raised_hand:', evidence: false, numbers: true, traffic: true },
  'rollback-retrying': {
    label: 'rollback still retrying',
    emoji: ':warning:',
    evidence: false,
    numbers: false,
    traffic: true,
  },
  promoted: { label: 'promoted', emoji: ':tada:', evidence: false, numbers: false, traffic: true },
  rolled_back: {
    label: 'rolled back',
    emoji: ':rotating_light:',
    evidence: true,
    numbers: false,
    traffic: true,
  },
  aborted: { label: 'aborted', emoji: ':octagonal_sign:', evidence: false, numbers: false, traffic: true },
  failed: { label: 'failed', emoji: ':x:', evidence: true, numbers: false, traffic: true },
};
