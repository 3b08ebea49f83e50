import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMatch } from '../spec/traffic';
import type { RouteSpec, SplitUpdate } from './split-schema';
import { isCanaryBucket } from './cohort';

export interface SplitView {
  stable: RouteSpec | null;
  canary: RouteSpec | null;
  weights: { stable: number; canary: number };
  match: HeaderMatch | null;
  updatedAt: number;
}

export interface SplitHistoryEntry {
  at: number;
  stableVersion: string | null;
  canaryVersion: string | null;
  canaryWeight: number;
}

export interface RouteChoice {
  version: string;
  target: string;
  /** Sent to the canary by the header route, not by the weight. */
  matched?: boolean;
}

const MAX_HISTORY = 1000;

class TargetPool {
  private next = 0;
  constructor(readonly spec: RouteSpec) {}

  pick(): RouteChoice {
    const targets = this.spec.targets;
    const target = targets[this.next % targets.length] as string;
    this.next = (this.next + 1) % targets.length;
    return { version: this.spec.version, target };
  }
}

interface ActiveSplit {
  stable: TargetPool | null;
  canary: TargetPool | null;
  canaryWeight: number;
  match: HeaderMatch | null;
  updatedAt: number;
}

const matches = (match: HeaderMatch, headers: IncomingHttpHeaders): boolean =>
  Object.entries(match.headers).every(([name, value]) => headers[name] === value);

/**
 * The routing table. Updates swap in a whole new object, so a request never observes a
 * half-applied split (e.g. a new canary version with the old weight).
 */
export class RoutingTable {
  private active: ActiveSplit;
  private changes: SplitHistoryEntry[] = [];

  constructor(now: number = Date.now()) {
    this.active = { stable: null, canary: null, canaryWeight: 0, match: null, updatedAt: now };
  }

  apply(update: SplitUpdate, now: number = Date.now()): SplitView {
    const canary = update.canary ?? null;
    this.active = {
      stable: new TargetPool(cloneRoute(update.stable)),
      canary: canary === null ? null : new TargetPool(cloneRoute(canary)),
      canaryWeight: update.canaryWeight,
      match: update.match ? { headers: { ...update.match.headers } } : null,
      updatedAt: now,
    };
    this.changes.push({
      at: now,
      stableVersion: update.stable.version,
      canaryVersion: canary?.version ?? null,
      canaryWeight: update.canaryWeight,
    });
    if (this.changes.length > MAX_HISTORY) this.changes.splice(0, this.changes.length - MAX_HISTORY);
    return this.view();
  }

  /** Returns null when there is nowhere to send this bucket. */
  route(bucket: number, headers: IncomingHttpHeaders = {}): RouteChoice | null {
    const { stable, canary, canaryWeight, match } = this.active;
    if (canary !== null && match !== null && matches(match, headers))
      return { ...canary.pick(), matched: true };
    if (canary !== null && canaryWeight > 0 && isCanaryBucket(bucket, canaryWeight)) return canary.pick();
    if (stable !== null && canaryWeight < 100) return stable.pick();
    return null;
  }

  view(): SplitView {
    const { stable, canary, canaryWeight, match, updatedAt } = this.active;
    return {
      stable: stable === null ? null : cloneRoute(stable.spec),
      canary: canary === null ? null : cloneRoute(canary.spec),
      weights: { stable: 100 - canaryWeight, canary: canaryWeight },
      match: match === null ? null : { headers: { ...match.headers } },
      updatedAt,
    };
  }

  history(): SplitHistoryEntry[] {
    return this.changes.map((entry) => ({ ...entry }));
  }

  clearHistory(): void {
    this.changes = [];
  }
}

function cloneRoute(route: RouteSpec): RouteSpec {
  return { version: route.version, targets: [...route.targets] };
}
