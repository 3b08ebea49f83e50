import type { HeaderMatch } from '../../spec/traffic';

export interface VersionTarget {
  version: string;
  /** What the checks probe (and what the embedded router proxies to). */
  targets: string[];
  /** What the load balancer routes to by its own name (HAProxy servers, NGINX upstreams). */
  routes?: string[];
}

export interface TrafficSplit {
  stable: VersionTarget | null;
  canary: VersionTarget | null;
  weights: { stable: number; canary: number };
  /** The header route in force, if any. */
  match?: HeaderMatch | null;
  /** Where the split was read from, e.g. "haproxy runtime API (get weight)". */
  readBack?: string;
}

export interface DesiredSplit {
  stable: VersionTarget;
  canary: VersionTarget | null;
  canaryWeight: number;
  /** Testers matched by header go to the canary whatever the weight; absent removes the rule. */
  match?: HeaderMatch;
}

/**
 * A traffic router: apply a split, and read back what the load balancer really applies. Both
 * must be idempotent: an activity retry, or a re-assert after a load-balancer restart, applies
 * the same split again.
 */
export interface TrafficRouter {
  setSplit(split: DesiredSplit): Promise<TrafficSplit>;
  getSplit(): Promise<TrafficSplit>;
}
