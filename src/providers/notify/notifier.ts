import type { RolloutEventName } from './events';
import { postToUrlFromEnv } from './post';

export type { RolloutEventName } from './events';

/** The bare event the webhook carried before alerts had context; still what postWebhook sends. */
export interface RolloutEvent {
  service: string;
  event: RolloutEventName;
  message: string;
  workflowId: string;
}

/**
 * Sends a bare rollout event to the webhook whose URL is read from the worker's environment, never
 * from history. The notify activity sends the full bodies (send.ts); this stays for callers that
 * have only the event.
 */
export async function postWebhook(urlEnv: string, event: RolloutEvent): Promise<void> {
  const text = `[${event.service}] ${event.event}: ${event.message}`;
  await postToUrlFromEnv(urlEnv, { ...event, text }, 'notify webhook');
}
