import type { VersionMetrics } from '../../analysis/types';
import type { PrometheusMetricsConfig } from '../../spec/providers';
import { renderTemplate } from '../../spec/template';
import { ConfigurationError, TransientError } from '../errors';
import { describeFetchError } from '../http-json';
import type { MetricsProvider, MetricsWindow } from './types';
import { assertVersion, describeEndpoint } from './values';

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
 * Reads per-version figures from Prometheus with one instant query per field, evaluated at the
 * end of the window over a range as long as the window. increase() and rate() extrapolate to the
 * range's edges, so counts are estimates: they are rounded, and may be off by a scrape's worth.
 */
export class PrometheusMetricsProvider implements MetricsProvider {
  constructor(private readonly config: PrometheusMetricsConfig) {}

  async versionMetrics(version: string, { sinceMs, untilMs }: MetricsWindow): Promise<VersionMetrics> {
    assertVersion(version);
    const atMs = untilMs ?? Date.now();
    const vars = { version, window: `${rangeSeconds(sinceMs, atMs, this.config.minRange)}s` };
    const names = ['requests', 'errors', 'p50Ms', 'p99Ms'] as const;
    const [requests, errors, p50Ms, p99Ms] = await Promise.all(
      names.map((name) => this.query(name, renderTemplate(this.config.queries[name], vars), atMs)),
    );

    const count = (name: QueryName, value: number | null | undefined): number => {
      if (value === null || value === undefined) return 0; // no series: nothing was served
      if (!Number.isFinite(value)) throw new TransientError(`Prometheus answered ${value} for ${name}`);
      return Math.max(0, Math.round(value));
    };
    const latency = (value: number | null | undefined): number | null =>
      value === null || value === undefined || !Number.isFinite(value) ? null : value;

    return {
      version,
      requests: count('requests', requests),
      errors: count('errors', errors),
      p50Ms: latency(p50Ms),
      p99Ms: latency(p99Ms),
    };
  }

  private async query(name: QueryName, query: string, atMs: number): Promise<number | null> {
    const base = this.config.url.endsWith('/') ? this.config.url : `${this.config.url}/`;
    const url = new URL('api/v1/query', base);
    url.searchParams.set('query', query);
    url.searchParams.set('time', (atMs / 1000).toFixed(3));
    const endpoint = describeEndpoint(url.href);

    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (err) {
      throw new TransientError(`Prometheus query ${name} at ${endpoint} failed: ${describeFetchError(err)}`);
    }
    const text = await response.text();
    let answer: PrometheusAnswer | undefined;
    try {
      answer = JSON.parse(text) as PrometheusAnswer;
    } catch {
      answer = undefined;
    }

    if (answer?.status === 'error') {
      const message = `Prometheus rejected metrics.queries.${name} (${answer.errorType ?? 'error'}): ${answer.error ?? ''} [query: ${query}]`;
      // bad_data: the query or its parameters are wrong, and will stay wrong. Timeouts, execution
      // errors and an unavailable server may pass.
      if (answer.errorType === 'bad_data') throw new ConfigurationError(message);
      throw new TransientError(message);
    }
    if (!response.ok) {
      const message = `Prometheus query ${name} at ${endpoint} answered ${response.status}: ${text.slice(0, 300)}`;
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      throw retryable ? new TransientError(message) : new ConfigurationError(message);
    }
    if (answer?.status !== 'success') {
      throw new TransientError(
        `Prometheus query ${name} at ${endpoint} answered non-Prometheus JSON: ${text.slice(0, 200)}`,
      );
    }
    return singleValue(name, answer.data);
  }
}
