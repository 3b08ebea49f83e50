import type { z } from 'zod';
import type { MetricsConfig, ResolvedMetricsConfig } from './providers';
import type { TrafficConfig } from './traffic';

interface Sections {
  traffic?: Partial<TrafficConfig>;
  metrics?: Partial<MetricsConfig>;
  analysis?: { latency?: string };
}

const HAPROXY_FIELDS = ['runtimeApi', 'backend', 'versionsMap'] as const;

/** The metrics source a spec really reads, once defaults follow the traffic provider. */
function effectiveProvider(doc: Sections): string | undefined {
  const metrics = doc.metrics;
  const traffic = doc.traffic?.provider ?? 'embedded';
  if (metrics?.provider === 'embedded' && metrics.adminUrl === undefined && traffic === 'haproxy') {
    return 'haproxy';
  }
  return metrics?.provider;
}

/**
 * Without metrics of its own, a rollout reads the load balancer's counters: the embedded router's
 * or HAProxy's. NGINX and a command report none, so those specs must name a source; and HAProxy
 * counts no latencies, so judging latency on it needs `analysis.latency: off` said out loud.
 */
export function checkMetricsSource(
  ctx: z.RefinementCtx,
  traffic: Sections['traffic'],
  metrics: Sections['metrics'],
  analysis?: Sections['analysis'],
): void {
  const doc: Sections = { traffic, metrics, analysis };
  const trafficProvider = traffic?.provider ?? 'embedded';
  if (metrics?.provider === 'embedded' && metrics.adminUrl === undefined) {
    if (trafficProvider === 'nginx' || trafficProvider === 'command') {
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', 'provider'],
        message: `traffic.provider ${trafficProvider} reports no per-version counts: set metrics.provider to prometheus or http (or embedded with an adminUrl)`,
      });
    }
  }
  if (metrics?.provider === 'haproxy' && trafficProvider !== 'haproxy') {
    for (const field of HAPROXY_FIELDS) {
      if (metrics[field] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', field],
          message: 'required unless traffic.provider is haproxy (it defaults to the traffic section)',
        });
      }
    }
  }
  if (effectiveProvider(doc) === 'haproxy' && analysis?.latency !== 'off') {
    ctx.addIssue({
      code: 'custom',
      path: ['analysis', 'latency'],
      message:
        "HAProxy's counters have no per-server latency histogram: set analysis.latency: off to judge errors alone, or read metrics from prometheus or http with slow counts",
    });
  }
}

/** Fills each metrics source's defaults from the traffic section (checked by checkMetricsSource). */
export function resolveMetricsConfig(metrics: MetricsConfig, traffic: TrafficConfig): ResolvedMetricsConfig {
  if (metrics.provider === 'embedded' && metrics.adminUrl === undefined && traffic.provider === 'haproxy') {
    const { runtimeApi, backend, versionsMap, timeout } = traffic;
    return { provider: 'haproxy', runtimeApi, backend, versionsMap, timeout };
  }
  if (metrics.provider === 'embedded') {
    // Only reachable with an embedded router, or with an explicit adminUrl (checkMetricsSource).
    const adminUrl = metrics.adminUrl ?? (traffic.provider === 'embedded' ? traffic.adminUrl : '');
    return { ...metrics, adminUrl };
  }
  if (metrics.provider === 'haproxy') {
    const from = traffic.provider === 'haproxy' ? traffic : undefined;
    return {
      ...metrics,
      runtimeApi: metrics.runtimeApi ?? from?.runtimeApi ?? '',
      backend: metrics.backend ?? from?.backend ?? '',
      versionsMap: metrics.versionsMap ?? from?.versionsMap ?? '',
    };
  }
  return metrics;
}
