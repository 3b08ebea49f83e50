import type { DeployConfig, NotifyConfig } from '../spec/providers';

/**
 * The worker variables a spec names as secret holders: the notify webhook URL and the deploy
 * webhook's headers. Their values must never reach history, whichever provider fails.
 */
export function secretEnvNames({
  deploy,
  notify,
}: {
  deploy?: DeployConfig;
  notify?: NotifyConfig;
}): string[] {
  const names: string[] = [];
  if (notify?.webhookUrlEnv) names.push(notify.webhookUrlEnv);
  if (deploy?.provider === 'webhook') names.push(...Object.values(deploy.headersFromEnv));
  return names;
}
