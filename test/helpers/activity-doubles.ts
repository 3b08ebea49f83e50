import type { RolloutActivities } from '../../src/activities';
import { createFleetFreezeActivities } from '../../src/activities/fleet-freeze';
import { createMigrationActivities } from '../../src/activities/migrations';
import type { VersionMetrics } from '../../src/analysis/types';
import type { DesiredSplit, TrafficSplit, VersionTarget } from '../../src/providers/traffic/types';

/*
 * TEST DOUBLES of RolloutActivities, for workflow tests on the time-skipping test server
 * (test/timeskip). Nothing here touches the world: the "router" is an in-memory split with its
 * history, and the metrics are computed from that history and a scripted behaviour per version.
 * The workflow's analysis code still judges those numbers, so verdicts are its real outputs.
 *
 * Every activity reads the time from the test server's clock (the skipped one the workflow sees),
 * never Date.now(): on the time-skipping server a day of workflow time passes in milliseconds of
 * wall time. (The activity info's scheduled timestamps are wall time on that server, not skipped.)
 */

/** What one version does at one moment of simulated time. */
export interface VersionBehaviour {
  /** Share of its requests that fail, 0..1. */
  errorRate: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The scripted world. Times are simulated ms since the rollout's first activity (negative for the
 * latency reference a canary reads before its first window).
 */
export interface Behaviour {
  /** What `version` does at `sinceStartMs`; constant between the change points. */
  of(version: string, sinceStartMs: number): VersionBehaviour;
  /** Where `of` may change: metrics are integrated exactly between these and the router's changes. */
  changesAtMs: number[];
}

export const HEALTHY: VersionBehaviour = { errorRate: 0.001, p50Ms: 40, p99Ms: 120 };

/** Every version healthy and alike, all the time. */
export const allHealthy: Behaviour = { of: () => HEALTHY, changesAtMs: [] };

/** `version` turns bad (`bad`) from `afterMs` on; everything else stays healthy. */
export function goesBad(version: string, afterMs: number, bad: Partial<VersionBehaviour>): Behaviour {
  return {
    of: (v, t) => (v === version && t >= afterMs ? { ...HEALTHY, ...bad } : HEALTHY),
    changesAtMs: [afterMs],
  };
}

export interface FakeActivitiesOptions {
  /** The router's split before the rollout starts (blue-green reads it to find the live side). */
  initial: DesiredSplit;
  /** Users' requests per second of simulated time, split between the versions by the router's weights. */
  requestsPerSecond: number;
  behaviour?: Behaviour;
  /** The simulated clock: env.currentTimeMs of the time-skipping environment. */
  clock: () => Promise<number>;
}

/** One split the workflow set, at the simulated time it was applied. */
export interface SplitChange {
  atMs: number;
  split: TrafficSplit;
}

export interface ActivityCall {
  name: keyof RolloutActivities;
  atMs: number;
  detail: string;
  /** readMetrics only: the window it was asked for. */
  window?: { sinceMs: number; untilMs?: number };
}

const splitOf = ({ stable, canary, canaryWeight, match }: DesiredSplit): TrafficSplit => ({
  stable: { ...stable },
  canary: canary ? { ...canary } : null,
  weights: { stable: 100 - canaryWeight, canary: canaryWeight },
  match: match ?? null,
  readBack: 'in-memory test double',
});

/** An in-memory router: the current split, and every split since the test began, with times. */
export class FakeRouter {
  readonly history: SplitChange[];

  constructor(initial: DesiredSplit) {
    // In force since long before the rollout: the latency reference reads the minutes before it.
    this.history = [{ atMs: -Infinity, split: splitOf(initial) }];
  }

  get current(): TrafficSplit {
    return (this.history[this.history.length - 1] as SplitChange).split;
  }

  apply(desired: DesiredSplit, atMs: number): TrafficSplit {
    this.history.push({ atMs, split: splitOf(desired) });
    return this.current;
  }

  /** Version → percent of traffic, like the demo's finalTraffic (versions at 0% left out). */
  traffic(split: TrafficSplit = this.current): Record<string, number> {
    const out: Record<string, number> = {};
    const add = (route: VersionTarget | null, weight: number) => {
      if (route && weight > 0) out[route.version] = (out[route.version] ?? 0) + weight;
    };
    add(split.stable, split.weights.stable);
    add(split.canary, split.weights.canary);
    return out;
  }

  /** Every split the workflow set, in order, as version → percent (the initial split excluded). */
  trafficHistory(): Record<string, number>[] {
    return this.history.slice(1).map((c) => this.traffic(c.split));
  }

  /** Share (0..1) of requests `version` got under the split in force at `atMs`. */
  shareAt(version: string, atMs: number): number {
    let split = (this.history[0] as SplitChange).split;
    for (const change of this.history) {
      if (change.atMs > atMs) break;
      split = change.split;
    }
    return (this.traffic(split)[version] ?? 0) / 100;
  }

  /** Split changes strictly inside (from, to): integration segments end there. */
  changesWithin(fromMs: number, toMs: number): number[] {
    return this.history.map((c) => c.atMs).filter((t) => t > fromMs && t < toMs);
  }
}

/** Share of requests slower than `boundMs`: piecewise linear through (0, 1), (p50, ½), (p99, 1%), (4·p99, 0). */
function slowerThan(boundMs: number, b: VersionBehaviour): number {
  const points: [number, number][] = [
    [0, 1],
    [b.p50Ms, 0.5],
    [b.p99Ms, 0.01],
    [4 * b.p99Ms, 0],
  ];
  if (boundMs >= 4 * b.p99Ms) return 0;
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i] as [number, number];
    const [x0, y0] = points[i - 1] as [number, number];
    if (boundMs <= x1) return y0 + ((y1 - y0) * (boundMs - x0)) / (x1 - x0);
  }
  return 0;
}

/**
 * The doubles and the in-memory world they act on. `activities` goes to Worker.create; the test
 * then asserts on `router` (the weights the workflow set) and `calls` (deploys, retires, notices).
 */
export class FakeWorld {
  readonly router: FakeRouter;
  readonly calls: ActivityCall[] = [];
  /** Simulated time of the rollout's first activity: behaviours are scripted relative to it. */
  startMs: number | null = null;
  private readonly behaviour: Behaviour;

  constructor(private readonly options: FakeActivitiesOptions) {
    this.router = new FakeRouter(options.initial);
    this.behaviour = options.behaviour ?? allHealthy;
  }

  /** Simulated time now, and a note of the call for the test's assertions. */
  private async now(
    name: keyof RolloutActivities,
    detail: string,
    window?: ActivityCall['window'],
  ): Promise<number> {
    const atMs = await this.options.clock();
    this.startMs ??= atMs;
    this.calls.push({ name, atMs, detail, ...(window ? { window } : {}) });
    return atMs;
  }

  callsOf(name: keyof RolloutActivities): ActivityCall[] {
    return this.calls.filter((c) => c.name === name);
  }

  /**
   * What `version` served over [sinceMs, untilMs]: the window is cut where the split or the
   * behaviour changes, and each piece is integrated exactly (rate × share × duration).
   */
  metrics(version: string, sinceMs: number, untilMs: number, boundsMs: number[] | undefined): VersionMetrics {
    const start = this.startMs ?? sinceMs;
    const inside = (t: number) => t > sinceMs && t < untilMs;
    const cuts = [
      sinceMs,
      ...[...this.router.changesWithin(sinceMs, untilMs), ...this.behaviour.changesAtMs.map((t) => start + t)]
        .filter(inside)
        .sort((a, b) => a - b),
      untilMs,
    ];
    let requests = 0;
    let errors = 0;
    let p50 = 0;
    let p99 = 0;
    const slow = (boundsMs ?? []).map(() => 0);
    for (let i = 1; i < cuts.length; i++) {
      const from = cuts[i - 1] as number;
      const to = cuts[i] as number;
      const n = ((this.options.requestsPerSecond * (to - from)) / 1000) * this.router.shareAt(version, from);
      if (!(n > 0)) continue;
      const b = this.behaviour.of(version, from - start);
      requests += n;
      errors += n * b.errorRate;
      p50 += n * b.p50Ms;
      p99 += n * b.p99Ms;
      (boundsMs ?? []).forEach((bound, k) => (slow[k] = (slow[k] as number) + n * slowerThan(bound, b)));
    }
    // Rounded once, at the end: cumulative counts over a growing window never go backwards.
    const total = Math.round(requests);
    return {
      version,
      requests: total,
      errors: Math.min(total, Math.round(errors)),
      p50Ms: total > 0 ? p50 / requests : null,
      p99Ms: total > 0 ? p99 / requests : null,
      ...(boundsMs === undefined ? {} : { slowCounts: slow.map((s) => Math.min(total, Math.round(s))) }),
    };
  }

  /** The doubles themselves, typed as the real activities so the workflow's proxies fit them. */
  readonly activities: RolloutActivities = {
    // Not doubles: the fleet freeze is read from the real freeze workflow on the test server, and
    // the migration activities are the real ones (no time-skipping test runs a migration).
    ...createMigrationActivities(),
    ...createFleetFreezeActivities(),
    setTraffic: async ({ traffic: _traffic, service: _service, ...desired }) => {
      const atMs = await this.now('setTraffic', `canary ${desired.canaryWeight}%`);
      return this.router.apply(desired, atMs);
    },
    getTraffic: async () => {
      await this.now('getTraffic', 'read');
      return this.router.current;
    },
    deployVersion: async ({ target, environment }) => {
      await this.now('deployVersion', `${target.version} on ${environment ?? '?'}`);
      return {
        version: target.version,
        targets: target.targets,
        details: `deployed ${target.version} (double)`,
      };
    },
    retireVersion: async ({ target, environment }) => {
      await this.now('retireVersion', `${target.version} on ${environment ?? '?'}`);
      return {
        version: target.version,
        targets: target.targets,
        details: `retired ${target.version} (double)`,
      };
    },
    checkHealth: async ({ targets }) => {
      await this.now('checkHealth', targets.join(','));
      return {
        healthy: true,
        targets: targets.map((target) => ({
          target,
          healthy: true,
          attempts: 1,
          lastStatus: 200,
          lastError: null,
        })),
      };
    },
    runSmokeTests: async ({ targets, tests }) => {
      await this.now('runSmokeTests', targets.join(','));
      return {
        passed: true,
        results: targets.flatMap((target) =>
          tests.map((t) => ({
            name: t.name,
            target,
            passed: true,
            status: 200,
            reason: null,
            durationMs: 1,
          })),
        ),
      };
    },
    readMetrics: async (input) => {
      const { sinceMs, untilMs } = input;
      const atMs = await this.now(
        'readMetrics',
        `${input.canaryVersion} vs ${input.stableVersion}`,
        untilMs === undefined ? { sinceMs } : { sinceMs, untilMs },
      );
      const until = Math.min(input.untilMs ?? atMs, atMs);
      return {
        stable: this.metrics(input.stableVersion, input.sinceMs, until, input.latencyBoundsMs),
        canary: this.metrics(input.canaryVersion, input.sinceMs, until, input.latencyBoundsMs),
      };
    },
    notify: async ({ event, message }) => {
      await this.now('notify', `${event}: ${message}`);
    },
  };
}
