import type { VersionMetrics } from '../../analysis/types';
import type { PrometheusMetricsConfig } from '../../spec/providers';
import { renderTemplate } from '../../spec/template';
import { ConfigurationError, TransientError } from '../errors';
import { requestText, statusError } from '../http-json';
import { type CumulativeBucket, slowCountsFromBuckets } from './cumulative-buckets';
import type { MetricsProvider, MetricsWindow } from './types';
import { assertVersion, describeEndpoint, finiteNumber } from './values';

type QueryName = keyof PrometheusMetricsConfig['queries'];

interface PrometheusAnswer {
  status?: string;
  data?: { resultType?: string; result?: unknown };
  errorType?: string;
  error?: string;
}

/**
 * The range every query covers, in whole seconds: the window so far, rounded up, but never below
 * minRange (rate() and increase() need at least two samples inside the range).
 */
export function rangeSeconds(sinceMs: number, untilMs: number, minRangeMs: number): number {
  return Math.max(Math.ceil((untilMs - sinceMs) / 1000), Math.ceil(minRangeMs / 1000), 1);
}

/**
 * Parses an instant query's result into one number: null when the result is empty (no series
 * matched), NaN or ±Infinity as they come. More than one series is a query mistake.
 */
export function singleValue(name: string, data: PrometheusAnswer['data']): number | null {
  const parse = (sample: unknown): number => {
    if (!Array.isArray(sample) || typeof sample[1] !== 'string') {
      throw new TransientError(`Prometheus answered a malformed sample for ${name}`);
    }
    // Prometheus writes "NaN", "+Inf" and "-Inf"; Number() turns the infinities into NaN, which
    // is just as non-finite.
    return Number(sample[1]);
  };
  switch (data?.resultType) {
    case 'vector': {
      const result = data.result;
      if (!Array.isArray(result))
        throw new TransientError(`Prometheus answered a malformed vector for ${name}`);
      if (result.length === 0) return null;
      if (result.length > 1) {
        throw new ConfigurationError(
          `metrics.queries.${name} returned ${result.length} series; aggregate it to one, e.g. with sum(...)`,
        );
      }
      return parse((result[0] as { value?: unknown }).value);
    }
    case 'scalar':
      return parse(data.result);
    default:
      throw new ConfigurationError(
        `metrics.queries.${name} returned a ${String(data?.resultType)}; it must return an instant vector or a scalar`,
      );
  }
}

/**
 * Parses the latencyBuckets query's result: one series per `le` label, each a cumulative count of
 * requests that took at most le (in the histogram's unit; × unitMs gives milliseconds). Every
 * series must carry a numeric `le` (or "+Inf"), and each le may appear once: a query that is not
 * aggregated by le is a configuration mistake.
 */
export function bucketValues(data: PrometheusAnswer['data'], unitMs: number): CumulativeBucket[] {
  const where = 'metrics.queries.latencyBuckets';
  if (data?.resultType !== 'vector') {
    throw new ConfigurationError(
      `${where} returned a ${String(data?.resultType)}; it must return an instant vector with one series per le`,
    );
  }
  if (!Array.isArray(data.result))
    throw new TransientError(`Prometheus answered a malformed vector for ${where}`);
  const seen = new Set<number>();
  return data.result.map((series: unknown) => {
    const { metric, value } = (series ?? {}) as { metric?: Record<string, unknown>; value?: unknown };
    const le = metric?.le;
    if (typeof le !== 'string') {
      throw new ConfigurationError(
        `${where} returned a series without an le label (${JSON.stringify(metric ?? {})}); aggregate it with sum by (le) (...)`,
      );
    }
    const edge = le.trim() === '+Inf' ? Infinity : finiteNumber(le);
    if (edge === undefined) {
      throw new ConfigurationError(
        `${where} returned le=${JSON.stringify(le)}, which is not a number or +Inf`,
      );
    }
    if (seen.has(edge)) {
      throw new ConfigurationError(
        `${where} returned several series for le=${JSON.stringify(le)}; aggregate it with sum by (le) (...)`,
      );
    }
    seen.add(edge);
    if (!Array.isArray(value) || typeof value[1] !== 'string') {
      throw new TransientError(`Prometheus answered a malformed sample for ${where}`);
    }
    const count = Number(value[1]);
    if (!Number.isFinite(count)) {
      throw new TransientError(`Prometheus answered ${value[1]} for ${where} at le=${le}`);
    }
    // Edges like 0.0049 s × 1000 come out as 4.8999999999999995 ms; rounding to 12 significant
    // digits puts them back on the edge, so a bound of exactly 4.9 ms is read at le=0.0049, not above.
    const leMs = edge === Infinity ? Infinity : Number((edge * unitMs).toPrecision(12));
    return { leMs, count };
  });
}

/**
 * Reads per-version figures from Prometheus with one instant query per field, evaluated at the
 * end of the window over a range as long as the window. increase() and rate() extrapolate to the
 * range's edges, so counts are estimates: they are rounded, and may be off by a scrape's worth.
 *
 * When the window asks for latency bounds, one more query reads the histogram's cumulative
 * buckets, and slowCounts are derived from them (slowCountsFromBuckets: each bound is counted at
 * the smallest finite bucket edge at or above it; null above the last finite edge). A bound between
 * two edges is thus read as "slower than the next edge above the bound": the same rule for both
 * versions, so the comparison stays fair, but coarse buckets lose power; a bound above the last
 * finite edge cannot be counted, and the latency check stays unarmed. Bucket counts come from
 * increase() too, so they are extrapolated estimates, each series on its own: they are rounded and
 * clamped to [0, requests] here, and the judge clamps each interval's 2×2 table again.
 */
export class PrometheusMetricsProvider implements MetricsProvider {
  constructor(private readonly config: PrometheusMetricsConfig) {}

  async versionMetrics(
    version: string,
    { sinceMs, untilMs, latencyBoundsMs }: MetricsWindow,
  ): Promise<VersionMetrics> {
    assertVersion(version);
    const atMs = untilMs ?? Date.now();
    const vars = { version, window: `${rangeSeconds(sinceMs, atMs, this.config.minRange)}s` };
    const render = (name: QueryName) => renderTemplate(this.config.queries[name], vars);
    const names = ['requests', 'errors', 'p50Ms', 'p99Ms'] as const;
    const boundsMs = latencyBoundsMs ?? [];
    const [[requests, errors, p50Ms, p99Ms], buckets] = await Promise.all([
      Promise.all(names.map(async (name) => singleValue(name, await this.query(name, render(name), atMs)))),
      boundsMs.length === 0
        ? undefined
        : this.query('latencyBuckets', render('latencyBuckets'), atMs).then((data) =>
            bucketValues(data, this.config.bucketUnitMs),
          ),
    ]);

    const count = (name: QueryName, value: number | null | undefined): number => {
      if (value === null || value === undefined) return 0; // no series: nothing was served
      if (!Number.isFinite(value)) throw new TransientError(`Prometheus answered ${value} for ${name}`);
      return Math.max(0, Math.round(value));
    };
    const latency = (value: number | null | undefined): number | null =>
      value === null || value === undefined || !Number.isFinite(value) ? null : value;

    const requestCount = count('requests', requests);
    const metrics: VersionMetrics = {
      version,
      requests: requestCount,
      errors: count('errors', errors),
      p50Ms: latency(p50Ms),
      p99Ms: latency(p99Ms),
    };
    if (buckets !== undefined) {
      // No series at all: nothing was served (as for the requests query), so nothing was slow.
      metrics.slowCounts =
        buckets.length === 0 ? boundsMs.map(() => 0) : slowCountsFromBuckets(buckets, requestCount, boundsMs);
    }
    return metrics;
  }

  /** One instant query; returns its data, with Prometheus's and HTTP errors classified. */
  private async query(name: QueryName, query: string, atMs: number): Promise<PrometheusAnswer['data']> {
    const base = this.config.url.endsWith('/') ? this.config.url : `${this.config.url}/`;
    const url = new URL('api/v1/query', base);
    url.searchParams.set('query', query);
    url.searchParams.set('time', (atMs / 1000).toFixed(3));
    const { status, ok, text, where, quote } = await requestText(url.href, {
      headers: { accept: 'application/json' },
      timeoutMs: this.config.timeout,
      endpoint: `${describeEndpoint(url.href)} (metrics.queries.${name})`,
    });
    let answer: PrometheusAnswer | undefined;
    try {
      answer = JSON.parse(text) as PrometheusAnswer;
    } catch {
      answer = undefined;
    }

    // Prometheus's own error, whatever the HTTP status it came with, says more than the status.
    if (answer?.status === 'error') {
      const message = `Prometheus rejected metrics.queries.${name} (${answer.errorType ?? 'error'}): ${answer.error ?? ''} [query: ${query}]`;
      // bad_data: the query or its parameters are wrong, and will stay wrong. Timeouts, execution
      // errors and an unavailable server may pass.
      if (answer.errorType === 'bad_data') throw new ConfigurationError(message);
      throw new TransientError(message);
    }
    if (!ok) throw statusError(status, `${where} answered ${status}: ${quote(text, 300)}`);
    if (answer?.status !== 'success') {
      throw new TransientError(`${where} answered non-Prometheus JSON: ${quote(text, 200)}`);
    }
    return answer.data;
  }
}
