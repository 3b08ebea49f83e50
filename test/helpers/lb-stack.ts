import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import {
  type DemoServiceHandle,
  type Faults,
  SERVICE_VERSION_HEADER,
  startDemoService,
} from '../../src/demo/service';
import { startTraffic, type TrafficHandle } from '../../src/demo/traffic';
import { parseSplit } from '../../src/providers/nginx/render-split';
import { trafficRouter } from '../../src/providers/registry';
import type { TrafficConfig } from '../../src/spec/traffic';
import { MATCH_HEADER, readMap, readServers, startHaproxy } from './haproxy';
import { startNginx, VARIABLE } from './nginx';
import { type PrometheusHandle, startPrometheus } from './prometheus';

/** What a load balancer itself says it applies, read by the test and not through the adapter. */
export interface LbState {
  /** Share of new users each route gets, in percent, e.g. { blue: 80, green: 20 }. */
  shares: Record<string, number>;
  /** The header route in force: header → value, or null. */
  match: Record<string, string> | null;
}

/**
 * A real load balancer in front of two real demo services: blue (v1) and green (v2), plus what a
 * spec needs to steer and measure it. Users go through the load balancer's own port.
 */
export interface LbStack {
  kind: 'haproxy' | 'nginx';
  url: string;
  blue: DemoServiceHandle;
  green: DemoServiceHandle;
  /** The spec sections for this load balancer: traffic, metrics and analysis. */
  sections(): { traffic: TrafficConfig; metrics: object; analysis: object };
  state(): Promise<LbState>;
  /** v1 live on blue with everyone, as before any rollout (through the adapter). */
  routeAllToV1(): Promise<void>;
  /** Kills the load balancer hard and starts it again from its files, as a crash and restart would. */
  restart(): Promise<void>;
  /** Kills it and returns a function that starts it again. */
  crash(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export async function startServices(v2Faults: Partial<Faults> = {}) {
  const blue = await startDemoService({ version: 'v1', port: 0 });
  const green = await startDemoService({ version: 'v2', port: 0, faults: v2Faults });
  return { blue, green };
}

/** NGINX, measured by a real Prometheus scraping both services (NGINX reports no per-version counts). */
export async function startNginxStack(v2Faults: Partial<Faults> = {}): Promise<LbStack> {
  const { blue, green } = await startServices(v2Faults);
  const nginx = await startNginx({ upstreams: { blue: blue.url, green: green.url } });
  let prometheus: PrometheusHandle | undefined;
  try {
    prometheus = await startPrometheus({
      targets: [blue.url, green.url].map((u) => new URL(u).host),
      scrapeIntervalSeconds: 1,
    });
    await prometheus.waitForScrapesAfter(Date.now());
  } catch (err) {
    await nginx.stop();
    await Promise.allSettled([blue.close(), green.close()]);
    throw err;
  }
  const traffic = nginx.configFor({ cohort: { header: 'x-user-id' }, timeout: '5s' });
  return {
    kind: 'nginx',
    url: nginx.url,
    blue,
    green,
    sections: () => ({
      traffic,
      metrics: { provider: 'prometheus', url: prometheus!.url, minRange: '3s' },
      analysis: {},
    }),
    async state() {
      // NGINX cannot report split_clients at runtime: the file nginx -t accepted is its state.
      const split = parseSplit(readFileSync(nginx.includeFile, 'utf8'), {
        variable: VARIABLE,
        cohort: traffic.cohort,
      });
      const shares: Record<string, number> = {};
      for (const route of split.stable.routes ?? [])
        shares[route] = (100 - split.canaryWeight) / (split.stable.routes?.length ?? 1);
      for (const route of split.canary?.routes ?? [])
        shares[route] = split.canaryWeight / (split.canary?.routes?.length ?? 1);
      return { shares, match: split.match?.headers ?? null };
    },
    routeAllToV1: () => v1OnBlue(traffic, blue.url),
    restart: () => nginx.restart(),
    async crash() {
      await nginx.kill();
      return () => nginx.restart();
    },
    async close() {
      await Promise.allSettled([nginx.stop(), prometheus?.stop(), blue.close(), green.close()]);
    },
  };
}

/** HAProxy, measured by its own per-server counters (which count no latencies: latency off). */
export async function startHaproxyStack(v2Faults: Partial<Faults> = {}): Promise<LbStack> {
  const { blue, green } = await startServices(v2Faults);
  const haproxy = await startHaproxy({ blue: blue.url, green: green.url });
  const traffic = haproxy.configFor();
  return {
    kind: 'haproxy',
    url: haproxy.url,
    blue,
    green,
    sections: () => ({ traffic, metrics: { provider: 'haproxy' }, analysis: { latency: 'off' } }),
    async state() {
      // HAProxy's own answer (show servers state, show map), parsed by the test helper.
      const servers = await readServers(haproxy.runtimeApi);
      const live = Object.entries(servers).filter(([, s]) => s.admin === 'ready');
      const total = live.reduce((sum, [, s]) => sum + s.weight, 0);
      const shares: Record<string, number> = {};
      for (const [name, s] of live) shares[name] = total === 0 ? 0 : Math.round((100 * s.weight) / total);
      const [tester] = Object.keys(await readMap(haproxy.runtimeApi, haproxy.matchMap));
      return { shares, match: tester === undefined ? null : { [MATCH_HEADER]: tester } };
    },
    routeAllToV1: () => v1OnBlue(traffic, blue.url),
    restart: () => haproxy.restart(),
    async crash() {
      await haproxy.kill();
      return () => haproxy.restart();
    },
    async close() {
      await Promise.allSettled([haproxy.stop(), blue.close(), green.close()]);
    },
  };
}

async function v1OnBlue(traffic: TrafficConfig, blueUrl: string): Promise<void> {
  await trafficRouter(traffic).setSplit({
    stable: { version: 'v1', targets: [blueUrl], routes: ['blue'] },
    canary: null,
    canaryWeight: 0,
  });
}

/** One request on a new connection, as a new user makes it; the answering service's version. */
function answeredBy(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    // A kept-alive connection could still reach an NGINX worker a reload is retiring.
    const req = get(url, { agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        const version = res.headers[SERVICE_VERSION_HEADER];
        resolve(typeof version === 'string' ? version : `status-${res.statusCode}`);
      });
    });
    req.on('error', reject);
  });
}

/** Which process answered `n` new users' requests through the load balancer, by the service's own header. */
export async function servedBy(
  url: string,
  n: number,
  headers: Record<string, string> = {},
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const version = await answeredBy(url, { 'x-user-id': `probe-${i}-${Math.random()}`, ...headers });
    counts[version] = (counts[version] ?? 0) + 1;
  }
  return counts;
}

export function usersThrough(stack: LbStack, rps = 40): TrafficHandle {
  return startTraffic({ url: stack.url, rps, users: 400, maxDurationMs: 120_000 });
}
