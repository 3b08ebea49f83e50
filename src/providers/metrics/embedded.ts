import type { VersionMetrics } from '../../analysis/types';
import { adminAuth } from '../admin-token';
import { requestJson } from '../http-json';
import type { MetricsProvider, MetricsWindow } from './types';

interface RouterMetrics {
  version: string;
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  slowRequests?: number;
  slowCounts?: number[];
}

/** Reads the embedded router's own per-version counters and latency histograms. */
export class EmbeddedMetricsProvider implements MetricsProvider {
  constructor(private readonly adminUrl: string) {}

  async versionMetrics(
    version: string,
    { sinceMs, untilMs, slowerThanMs, latencyBoundsMs }: MetricsWindow,
  ): Promise<VersionMetrics> {
    const url = new URL('/admin/metrics', this.adminUrl);
    url.searchParams.set('version', version);
    url.searchParams.set('sinceMs', String(sinceMs));
    if (untilMs !== undefined) url.searchParams.set('untilMs', String(untilMs));
    if (slowerThanMs !== undefined) url.searchParams.set('slowerThanMs', slowerThanMs.toFixed(3));
    if (latencyBoundsMs !== undefined && latencyBoundsMs.length > 0)
      url.searchParams.set('boundsMs', latencyBoundsMs.map((ms) => ms.toFixed(3)).join(','));
    const m = await requestJson<RouterMetrics>(url.href, adminAuth());
    return {
      version,
      requests: m.requests,
      errors: m.errors,
      p50Ms: m.p50Ms,
      p99Ms: m.p99Ms,
      ...(m.slowRequests === undefined ? {} : { slowRequests: m.slowRequests }),
      ...(m.slowCounts === undefined ? {} : { slowCounts: m.slowCounts }),
    };
  }
}
