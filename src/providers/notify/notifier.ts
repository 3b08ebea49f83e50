import { ConfigurationError } from '../errors';
import { requestJson } from '../http-json';
import { originOf, secretForms } from '../redact';

/**
 * What a rollout tells the webhook about: a stage passed, traffic restore still retrying, or how the
 * rollout ended (the workflow's outcomes). Receivers switch on it, so it is a closed set.
 */
export type RolloutEventName =
  'stage-completed' | 'rollback-retrying' | 'promoted' | 'rolled_back' | 'aborted' | 'failed';

export interface RolloutEvent {
  service: string;
  event: RolloutEventName;
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
