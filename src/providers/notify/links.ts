import {
  DASHBOARD_URL_ENV,
  dashboardRolloutUrl,
  WEB_UI_URL_ENV,
  webUiWorkflowUrl,
} from '../../temporal/links';
import type { AlertLinks } from './alert';

// Unset (or not http(s)) means no link.
function base(value: string | undefined): string | null {
  if (!value || !/^https?:\/\/[^/]/i.test(value)) return null;
  return value.replace(/\/+$/, '');
}

/** Links to the rollout in the Temporal Web UI and in the rollout dashboard. */
export function alertLinks(
  workflowId: string,
  namespace: string,
  env: Readonly<Record<string, string | undefined>>,
): AlertLinks {
  const links: AlertLinks = {};
  const webUi = base(env[WEB_UI_URL_ENV]);
  const dashboard = base(env[DASHBOARD_URL_ENV]);
  if (webUi) links.webUi = webUiWorkflowUrl(webUi, namespace, workflowId);
  if (dashboard) links.dashboard = dashboardRolloutUrl(dashboard, workflowId);
  return links;
}
