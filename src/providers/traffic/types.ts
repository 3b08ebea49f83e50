export interface VersionTarget {
  version: string;
  targets: string[];
}

export interface TrafficSplit {
  stable: VersionTarget | null;
  canary: VersionTarget | null;
  weights: { stable: number; canary: number };
}

export interface DesiredSplit {
  stable: VersionTarget;
  canary: VersionTarget | null;
  canaryWeight: number;
}

/** A traffic router: set the split, and read back what is really routed. */
export interface TrafficRouter {
  setSplit(split: DesiredSplit): Promise<TrafficSplit>;
  getSplit(): Promise<TrafficSplit>;
}
