import { NOTIFY_SINK_URL_ENV } from '../spec/notify-sinks';
import type { DeployConfig, NotifyConfig } from '../spec/providers';

/**
 * The worker variables a spec names as secret holders: every notify sink's webhook URL and the
 * deploy webhook's headers. Their values must never reach history, whichever provider fails.
 */
export function secretEnvNames({
  deploy,
  notify,
}: {
  deploy?: DeployConfig;
  notify?: NotifyConfig;
}): string[] {
  const names: string[] = [];
  for (const field of Object.values(NOTIFY_SINK_URL_ENV)) {
    const name = notify?.[field];
    if (name) names.push(name);
  }
  if (deploy?.provider === 'webhook') names.push(...Object.values(deploy.headersFromEnv));
  return names;
}
