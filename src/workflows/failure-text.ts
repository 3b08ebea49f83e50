import { ActivityFailure, rootCause } from '@temporalio/workflow';

/**
 * What went wrong, for the state and notifications. An activity failure's own message is only
 * "Activity task failed"; the reason is in its cause chain (already redacted by the activity).
 */
export function failureText(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const why = rootCause(err) ?? err.message;
    return `${err.activityType ?? 'activity'} failed: ${why}`;
  }
  return err instanceof Error ? err.message : String(err);
}
