import type { VersionMetrics } from '../../analysis/types';
import { evaluateJsonPath, type JsonPathSegment, parseJsonPath } from '../../spec/json-path';
import type { HttpMetricsConfig } from '../../spec/providers';
import { renderTemplate } from '../../spec/template';
import { ConfigurationError, TransientError } from '../errors';
import { requestJson } from '../http-json';
import { type CumulativeBucket, parseCumulativeBuckets, slowCountsFromBuckets } from './cumulative-buckets';
import type { MetricsProvider, MetricsWindow } from './types';
import { assertVersion, describeEndpoint, describeValue, finiteNumber } from './values';

type FieldName = keyof HttpMetricsConfig['fields'];

const FIELDS = ['requests', 'errors', 'p50Ms', 'p99Ms', 'slowRequests', 'latencyHistogram'] as const;

function compile(name: FieldName, path: string): JsonPathSegment[] {
  try {
    return parseJsonPath(path);
  } catch (err) {
    throw new ConfigurationError(`metrics.fields.${name}: ${(err as Error).message}`);
  }
}

/** A bound for {{slowerThanMs}}: plain decimal milliseconds, to the microsecond ("52.5", "100"). */
function decimalMs(ms: number): string {
  const fixed = ms.toFixed(3);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/**
 * Any JSON endpoint that reports per-version figures: one GET per version and window, values read
 * with simple paths. Missing counts are an error (a metrics source that says nothing must never
 * look like a clean canary); missing latencies are null ("not reported").
 *
 * Slow counts for the latency test (VersionMetrics.slowCounts, when the window asks for bounds) come
 * from one of two optional fields; with neither, slowCounts is left out and the test stays unarmed:
 * - fields.slowRequests: the url's {{slowerThanMs}} carries one bound, and the answer counts the
 *   requests slower than it. One GET per bound, in parallel, all for the same window; requests,
 *   errors and latencies are read from the first. A missing, non-numeric or negative count is null
 *   at that bound (the source cannot count there), never 0.
 * - fields.latencyHistogram: cumulative buckets [{ "le": ms | "+Inf", "count": n }, ...] in the one
 *   answer; the counts are derived by slowCountsFromBuckets (read at the smallest finite le at or
 *   above each bound, null above the last finite le). A malformed histogram fails the read.
 */
export class HttpMetricsProvider implements MetricsProvider {
  private readonly paths: Partial<Record<FieldName, JsonPathSegment[]>> = {};

  constructor(private readonly config: HttpMetricsConfig) {
    for (const name of FIELDS) {
      const path = config.fields[name];
      if (path !== undefined) this.paths[name] = compile(name, path);
    }
  }

  async versionMetrics(
    version: string,
    { sinceMs, untilMs, latencyBoundsMs }: MetricsWindow,
  ): Promise<VersionMetrics> {
    assertVersion(version);
    // Fixed once, so that every GET of this read covers the same window.
    const values = {
      version,
      sinceMs: String(Math.floor(sinceMs)),
      untilMs: String(Math.floor(untilMs ?? Date.now())),
    };
    const get = (slowerThanMs: string) => {
      const url = renderTemplate(this.config.url, { ...values, slowerThanMs }, encodeURIComponent);
      return requestJson<unknown>(url, { timeoutMs: this.config.timeout }).then((body) => ({ url, body }));
    };

    const perBound = this.paths.slowRequests !== undefined && latencyBoundsMs !== undefined;
    const answers = await Promise.all(
      perBound && latencyBoundsMs.length > 0 ? latencyBoundsMs.map((ms) => get(decimalMs(ms))) : [get('')],
    );
    const { url, body } = answers[0] as { url: string; body: unknown };
    const endpoint = describeEndpoint(url);

    const count = (name: 'requests' | 'errors'): number => {
      const raw = evaluateJsonPath(body, this.paths[name] ?? []);
      const value = finiteNumber(raw);
      if (value === undefined) {
        throw new TransientError(
          `${endpoint}: no values found for ${name} at ${this.config.fields[name]} (got ${describeValue(raw)})`,
        );
      }
      if (value < 0) {
        throw new TransientError(
          `${endpoint}: ${name} at ${this.config.fields[name]} is negative (${value})`,
        );
      }
      return Math.round(value);
    };
    const latency = (name: 'p50Ms' | 'p99Ms'): number | null => {
      const path = this.paths[name];
      if (path === undefined) return null;
      const value = finiteNumber(evaluateJsonPath(body, path));
      return value === undefined || value < 0 ? null : value;
    };

    const metrics: VersionMetrics = {
      version,
      requests: count('requests'),
      errors: count('errors'),
      p50Ms: latency('p50Ms'),
      p99Ms: latency('p99Ms'),
    };
    if (latencyBoundsMs === undefined) return metrics;

    const slowPath = this.paths.slowRequests;
    if (slowPath !== undefined) {
      metrics.slowCounts = latencyBoundsMs.map((_, i) => {
        const value = finiteNumber(evaluateJsonPath(answers[i]?.body, slowPath));
        return value === undefined || value < 0 ? null : Math.round(value);
      });
    }
    const histogramPath = this.paths.latencyHistogram;
    if (histogramPath !== undefined) {
      let buckets: CumulativeBucket[];
      try {
        buckets = parseCumulativeBuckets(evaluateJsonPath(body, histogramPath));
      } catch (err) {
        throw new TransientError(
          `${endpoint}: latencyHistogram at ${this.config.fields.latencyHistogram} is not a cumulative histogram: ${(err as Error).message}`,
        );
      }
      metrics.slowCounts = slowCountsFromBuckets(buckets, metrics.requests, latencyBoundsMs);
    }
    return metrics;
  }
}
