import { startDemoService, type DemoServiceHandle, type Faults } from '../../src/demo/service';
import { startTraffic, type TrafficHandle } from '../../src/demo/traffic';
import type { AdminStats } from '../../src/router/admin-api';
import { startRouter, type RouterHandle } from '../../src/router/server';
import type { SplitView } from '../../src/router/split';
import { putLive, readSplit, readStats } from './router-split';

/** The real parts a rollout touches: a router, v1 and v2 of the demo service, and users. */
export class Stack {
  traffic: TrafficHandle | undefined;

  private constructor(
    readonly router: RouterHandle,
    readonly v1: DemoServiceHandle,
    readonly v2: DemoServiceHandle,
  ) {}

  static async start(v2Faults: Partial<Faults> = {}, v1Faults: Partial<Faults> = {}): Promise<Stack> {
    const router = await startRouter({ port: 0, adminPort: 0 });
    const v1 = await startDemoService({ version: 'v1', port: 0, faults: v1Faults });
    const v2 = await startDemoService({ version: 'v2', port: 0, faults: v2Faults });
    return new Stack(router, v1, v2);
  }

  startUsers(rps = 60, maxDurationMs = 120_000): TrafficHandle {
    this.traffic = startTraffic({ url: this.router.url, rps, users: 400, maxDurationMs });
    return this.traffic;
  }

  split(): Promise<SplitView> {
    return readSplit(this.router.adminUrl);
  }

  stats(): Promise<AdminStats> {
    return readStats(this.router.adminUrl);
  }

  /** Puts the stack back on v1 (after a test that promoted v2), with v2's faults cleared. */
  async resetToV1(): Promise<void> {
    await this.routeAllToV1();
    this.v2.setFaults({ errorRate: 0, latencyMs: 0, failHealth: false, failSmoke: false });
  }

  /** v1 live with 100%, as before any rollout; v2's faults stay as they are. */
  routeAllToV1(): Promise<void> {
    return putLive(this.router.adminUrl, { version: 'v1', targets: [this.v1.url] });
  }

  async close(): Promise<void> {
    await this.traffic?.stop();
    await Promise.allSettled([this.router.close(), this.v1.close(), this.v2.close()]);
  }
}

/** Samples the router's split until stopped, so a test can assert on every value it ever had. */
export function sampleSplits(stack: Stack, everyMs = 100): { samples: SplitView[]; stop(): SplitView[] } {
  const samples: SplitView[] = [];
  const timer = setInterval(() => {
    stack.split().then(
      (s) => samples.push(s),
      () => undefined,
    );
  }, everyMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}
