import type { AlertLinks } from './alert';

/** The worker variables holding the base URLs; unset (or not http(s)) means no link. */
export const WEB_UI_URL_ENV = 'ROLLOUT_WEB_UI_URL';
export const DASHBOARD_URL_ENV = 'ROLLOUT_DASHBOARD_URL';

function base(value: string | undefined): string | null {
  if (!value || !/^https?:\/\/[^/]/i.test(value)) return null;
  return value.replace(/\/+$/, '');
}

/**
 * Links to the rollout in the Temporal Web UI and in the rollout dashboard. The path without a run
 * id opens the latest run, which stays right across continue-as-new.
 */
export function alertLinks(
  workflowId: string,
  namespace: string,
  env: Readonly<Record<string, string | undefined>>,
): AlertLinks {
  const links: AlertLinks = {};
  const webUi = base(env[WEB_UI_URL_ENV]);
  const dashboard = base(env[DASHBOARD_URL_ENV]);
  const id = encodeURIComponent(workflowId);
  if (webUi) links.webUi = `${webUi}/namespaces/${encodeURIComponent(namespace)}/workflows/${id}`;
  if (dashboard) links.dashboard = `${dashboard}/rollouts/${id}`;
  return links;
}
