import type { AdminStats } from '../../src/router/admin-api';
import type { SplitView } from '../../src/router/split';
import type { RouteSpec } from '../../src/router/split-schema';

/** The router's admin API refuses writes that are not JSON (a web page cannot send those unasked). */
const JSON_WRITE = { 'content-type': 'application/json' };

/**
 * Puts `live` on 100% through the router's admin API, as before any rollout; `idle` (a blue-green
 * environment) may stand beside it at 0%. Throws with the router's answer if it refuses.
 */
export async function putLive(
  adminUrl: string,
  live: RouteSpec,
  idle: RouteSpec | null = null,
): Promise<void> {
  const response = await fetch(`${adminUrl}/admin/split`, {
    method: 'PUT',
    headers: JSON_WRITE,
    body: JSON.stringify({ stable: live, canary: idle, canaryWeight: 0 }),
  });
  if (!response.ok) {
    throw new Error(`router refused ${live.version} live: ${response.status} ${await response.text()}`);
  }
}

export async function readSplit(adminUrl: string): Promise<SplitView> {
  return (await fetch(`${adminUrl}/admin/split`)).json() as Promise<SplitView>;
}

export async function readStats(adminUrl: string): Promise<AdminStats> {
  return (await fetch(`${adminUrl}/admin/stats`)).json() as Promise<AdminStats>;
}
