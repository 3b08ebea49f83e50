import { requestJson } from '../http-json';

export interface RolloutEvent {
  service: string;
  event: string;
  message: string;
  workflowId: string;
}

/** Sends rollout events to a webhook whose URL is read from the worker's environment, never from history. */
export async function postWebhook(urlEnv: string, event: RolloutEvent): Promise<void> {
  const url = process.env[urlEnv];
  if (!url) return;
  await requestJson(url, {
    method: 'POST',
    body: { ...event, text: `[${event.service}] ${event.event}: ${event.message}` },
  });
}
