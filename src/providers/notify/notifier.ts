import { ConfigurationError } from '../errors';
import { requestJson } from '../http-json';
import { originOf, secretForms } from '../redact';

export interface RolloutEvent {
  service: string;
  event: string;
  message: string;
  workflowId: string;
}

/**
 * Sends rollout events to a webhook whose URL is read from the worker's environment, never from
 * history. The URL's path is the secret (Slack, Teams), so messages name the endpoint by origin
 * and the variable's name, and never quote the value.
 */
export async function postWebhook(urlEnv: string, event: RolloutEvent): Promise<void> {
  const url = process.env[urlEnv];
  if (!url) return;
  const origin = originOf(url);
  if (!/^https?:\/\//.test(origin)) {
    throw new ConfigurationError(`notify: ${urlEnv} on the worker does not hold an http(s) URL`);
  }
  await requestJson(url, {
    method: 'POST',
    body: { ...event, text: `[${event.service}] ${event.event}: ${event.message}` },
    endpoint: `notify webhook ${origin} (URL from ${urlEnv})`,
    secrets: secretForms(url),
  });
}
