import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { abortRollout } from '../../src/client/rollouts';
import type { RouterHandle } from '../../src/router/server';
import type { RouteSpec } from '../../src/router/split-schema';
import type { SplitHistoryEntry, SplitView } from '../../src/router/split';

const ABORT_TIMEOUT_MS = 120_000;
// Only to know when to read the router's history, which holds the exact time: looking more often
// would not sharpen the figure, and 20 aborts stuck behind a backlog would load the bench itself.
const LOOK_EVERY_MS = 50;

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/**
 * When the router took canary weight 0, by its own clock (Date.now() in this process, where the
 * routers run): the split history's entry, so the figure does not depend on how often we looked.
 */
async function zeroAt(router: RouterHandle, sinceMs: number): Promise<number | undefined> {
  const stats = await getJson<{ splitHistory: SplitHistoryEntry[] }>(`${router.adminUrl}/admin/stats`);
  return stats.splitHistory.find((entry) => entry.at >= sinceMs && entry.canaryWeight === 0)?.at;
}

/**
 * Abort → canary at 0%: from sending the abort signal to the router applying weight 0, through the
 * server, the worker's workflow task and the rollback's traffic activity.
 */
export async function timeAbort(client: Client, service: string, router: RouterHandle): Promise<number> {
  const sentAt = Date.now();
  await abortRollout(client, service, 'bench:scale');
  const deadline = sentAt + ABORT_TIMEOUT_MS;
  for (;;) {
    const split = await getJson<SplitView>(`${router.adminUrl}/admin/split`);
    if (split.weights.canary === 0) break;
    // An overloaded worker may take this long; the figure is then a lower bound, and says so.
    if (Date.now() > deadline) {
      process.stderr.write(
        `\nabort of ${service}: canary still at ${split.weights.canary}% after ${ABORT_TIMEOUT_MS / 1000}s\n`,
      );
      return Date.now() - sentAt;
    }
    await sleep(LOOK_EVERY_MS);
  }
  const at = (await zeroAt(router, sentAt)) ?? Date.now();
  return at - sentAt;
}

/**
 * The floor no orchestration can beat: the same change made directly on a router's admin API from
 * this process, under the same load (a spare router that no rollout uses).
 */
export async function timeDirectChange(
  router: RouterHandle,
  stable: RouteSpec,
  canary: RouteSpec,
): Promise<number> {
  const put = (canaryWeight: number) =>
    getJson<SplitView>(`${router.adminUrl}/admin/split`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stable, canary, canaryWeight }),
    });
  await put(10);
  const sentAt = Date.now();
  await put(0);
  const at = (await zeroAt(router, sentAt)) ?? Date.now();
  return at - sentAt;
}
