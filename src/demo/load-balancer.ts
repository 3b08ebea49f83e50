import { trafficRouter } from '../providers/registry';
import type { TrafficSplit } from '../providers/traffic/types';
import type { TrafficConfig } from '../spec/traffic';
import { findHaproxy, startHaproxy } from './local/haproxy';
import { findNginx, startNginx } from './local/nginx';
import { findPrometheus, startPrometheus } from './local/prometheus';

export const ROUTERS = ['embedded', 'haproxy', 'nginx'] as const;
export type RouterKind = (typeof ROUTERS)[number];

/** A real load balancer in front of the demo's blue (v1) and green (new version) addresses. */
export interface DemoLoadBalancer {
  kind: Exclude<RouterKind, 'embedded'>;
  url: string;
  traffic: TrafficConfig;
  /** The spec's metrics section (defaults filled in by the spec parser). */
  metrics: { provider: 'prometheus'; url: string; minRange: string };
  /** One line for the log: where it runs and how the worker steers it. */
  description: string;
  /** The split the load balancer applies, read from it by its traffic adapter. */
  split(): Promise<TrafficSplit>;
  stop(): Promise<void>;
}

/** Before anything starts: a missing program is named with its Debian package, not a stack trace. */
export function checkLoadBalancerPrograms(kind: RouterKind): void {
  if (kind === 'embedded') return;
  findPrometheus();
  if (kind === 'haproxy') findHaproxy();
  else findNginx();
}

/**
 * HAProxy's counters have no latency and NGINX has no per-version counters, so with either the
 * demo measures versions with a real Prometheus scraping both services: the `slow` scenario is
 * still caught by latency, as it is on the embedded router.
 */
export async function startDemoLoadBalancer(
  kind: Exclude<RouterKind, 'embedded'>,
  blueUrl: string,
  greenUrl: string,
): Promise<DemoLoadBalancer> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    const prometheus = await startPrometheus({
      targets: [blueUrl, greenUrl].map((u) => new URL(u).host),
      scrapeIntervalSeconds: 1,
    });
    stops.push(() => prometheus.stop());
    const metrics = { provider: 'prometheus', url: prometheus.url, minRange: '3s' } as const;
    let url: string;
    let traffic: TrafficConfig;
    let description: string;
    if (kind === 'haproxy') {
      const haproxy = await startHaproxy({ blue: blueUrl, green: greenUrl });
      stops.push(() => haproxy.stop());
      url = haproxy.url;
      traffic = haproxy.configFor();
      description = `haproxy ${url} (runtime API ${haproxy.runtimeApi}, backend app: servers blue, green)`;
    } else {
      const nginx = await startNginx({ upstreams: { blue: blueUrl, green: greenUrl } });
      stops.push(() => nginx.stop());
      url = nginx.url;
      traffic = nginx.configFor({ cohort: { header: 'x-user-id' } });
      description = `nginx ${url} (include file ${nginx.includeFile}, upstreams blue, green)`;
    }
    return {
      kind,
      url,
      traffic,
      metrics,
      description: `${description}; metrics: prometheus ${prometheus.url}`,
      split: () => trafficRouter(traffic).getSplit(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
