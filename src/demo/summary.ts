import type { AdminStats } from '../router/admin-api';
import type { SplitView } from '../router/split';
import type { VersionTotals } from '../router/version-stats';
import type { RolloutResult } from '../workflows/state';
import type { TrafficReport } from './traffic';

/** What the summary reads of the router's counts; with a load balancer, the users' own counts. */
export interface RouterStatsView {
  versions: Record<string, Pick<VersionTotals, 'requests' | 'errors' | 'firstErrorAt' | 'firstRequestAt'>>;
  splitHistory: AdminStats['splitHistory'];
}

/** What the summary reads of a split: the router's own view, or a load balancer's read-back. */
export type RouterSplitView = Pick<SplitView, 'stable' | 'canary' | 'weights'>;

export interface ScenarioSummary {
  scenario: string;
  strategy: 'canary' | 'blue-green';
  outcome: string;
  expected: string;
  workflowId: string;
  failedRequestsOnNewVersion: number;
  requestsOnNewVersion: number;
  secondsToRollback: number | null;
  finalTraffic: Record<string, number>;
  userRequests: number;
  userFailures: number;
  decisions: number;
}

/**
 * Per-version counts as users got them (a load balancer counts no versions for the demo), and the
 * moments the load balancer confirmed each weight, from the workflow's own decisions.
 */
export function statsFromUsers(users: TrafficReport, result: RolloutResult): RouterStatsView {
  const versions: RouterStatsView['versions'] = {};
  for (const [version, o] of Object.entries(users.byVersion)) {
    versions[version] = {
      requests: o.ok + o.failed,
      errors: o.failed,
      firstErrorAt: o.firstFailureAt,
      firstRequestAt: o.firstAnswerAt,
    };
  }
  const splitHistory = result.state.decisions
    .filter((d) => d.kind === 'set-weight')
    .map((d) => ({
      at: Date.parse(d.at),
      stableVersion: result.state.stableVersion,
      canaryVersion: result.state.canaryVersion,
      canaryWeight: d.weight,
    }));
  return { versions, splitHistory };
}

/** Percent per version as the router routes it now, not as the workflow remembers it. */
export function trafficFromRouter(split: RouterSplitView): Record<string, number> {
  const traffic: Record<string, number> = {};
  if (split.stable) traffic[split.stable.version] = split.weights.stable;
  if (split.canary)
    traffic[split.canary.version] = (traffic[split.canary.version] ?? 0) + split.weights.canary;
  return traffic;
}

/**
 * From the new version's first failed request (or, for a latency regression, its first request:
 * every one it serves is slow) to the first moment the router gave it 0%.
 */
export function secondsToRollback(
  stats: RouterStatsView,
  newVersion: string,
  harmFrom: 'first-error' | 'first-request' = 'first-error',
): number | null {
  const seen = stats.versions[newVersion];
  const firstError = harmFrom === 'first-request' ? seen?.firstRequestAt : seen?.firstErrorAt;
  if (firstError === null || firstError === undefined) return null;
  const back = stats.splitHistory.find(
    (h) =>
      h.at >= firstError &&
      (h.canaryVersion !== newVersion || h.canaryWeight === 0) &&
      h.stableVersion !== newVersion,
  );
  return back ? Number(((back.at - firstError) / 1000).toFixed(2)) : null;
}

export function summarize(
  scenario: {
    name: string;
    strategy: 'canary' | 'blue-green';
    expected: string;
    harmFrom?: 'first-error' | 'first-request';
  },
  workflowId: string,
  result: RolloutResult,
  stats: RouterStatsView,
  split: RouterSplitView,
  users: TrafficReport,
  newVersion: string,
): ScenarioSummary {
  const userFailures =
    Object.values(users.byVersion).reduce((n, v) => n + v.failed, 0) + users.transportErrors;
  return {
    scenario: scenario.name,
    strategy: scenario.strategy,
    outcome: result.outcome,
    expected: scenario.expected,
    workflowId,
    failedRequestsOnNewVersion: stats.versions[newVersion]?.errors ?? 0,
    requestsOnNewVersion: stats.versions[newVersion]?.requests ?? 0,
    secondsToRollback:
      result.outcome === 'promoted' ? null : secondsToRollback(stats, newVersion, scenario.harmFrom),
    finalTraffic: trafficFromRouter(split),
    userRequests: users.sent,
    userFailures,
    decisions: result.state.decisions.length,
  };
}
