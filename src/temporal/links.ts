/**
 * Where people look at a rollout. The alerts (on the worker) and the dashboard (on the operator's
 * machine) read the same variables and build the same links, so a link in Slack and a link on the
 * dashboard always open the same page.
 */
export const WEB_UI_URL_ENV = 'ROLLOUT_WEB_UI_URL';
/** Where people reach the dashboard; alerts link to `${it}/rollouts/<workflowId>`. */
export const DASHBOARD_URL_ENV = 'ROLLOUT_DASHBOARD_URL';

const trimmed = (base: string): string => base.replace(/\/+$/, '');

/** The rollout in the Temporal Web UI. No run id: the latest run, which stays right across continue-as-new. */
export function webUiWorkflowUrl(webUiUrl: string, namespace: string, workflowId: string): string {
  return `${trimmed(webUiUrl)}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The rollout's page on the dashboard. */
export function dashboardRolloutUrl(dashboardUrl: string, workflowId: string): string {
  return `${trimmed(dashboardUrl)}/rollouts/${encodeURIComponent(workflowId)}`;
}
