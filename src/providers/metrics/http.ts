import type { VersionMetrics } from '../../analysis/types';
import { evaluateJsonPath, type JsonPathSegment, parseJsonPath } from '../../spec/json-path';
import type { HttpMetricsConfig } from '../../spec/providers';
import { renderTemplate } from '../../spec/template';
import { ConfigurationError, TransientError } from '../errors';
import { requestJson } from '../http-json';
import type { MetricsProvider, MetricsWindow } from './types';
import { assertVersion, describeEndpoint, finiteNumber } from './values';

type FieldName = keyof HttpMetricsConfig['fields'];

function compile(name: FieldName, path: string): JsonPathSegment[] {
  try {
    return parseJsonPath(path);
  } catch (err) {
    throw new ConfigurationError(`metrics.fields.${name}: ${(err as Error).message}`);
  }
}

/**
 * Any JSON endpoint that reports per-version figures: one GET per version and window, values read
 * with simple paths. Missing counts are an error (a metrics source that says nothing must never
 * look like a clean canary); missing latencies are null ("not reported").
 */
export class HttpMetricsProvider implements MetricsProvider {
  private readonly paths: Partial<Record<FieldName, JsonPathSegment[]>> = {};

  constructor(private readonly config: HttpMetricsConfig) {
    for (const name of ['requests', 'errors', 'p50Ms', 'p99Ms'] as const) {
      const path = config.fields[name];
      if (path !== undefined) this.paths[name] = compile(name, path);
    }
  }

  async versionMetrics(version: string, { sinceMs, untilMs }: MetricsWindow): Promise<VersionMetrics> {
    assertVersion(version);
    const url = renderTemplate(
      this.config.url,
      {
        version,
        sinceMs: String(Math.floor(sinceMs)),
        untilMs: String(Math.floor(untilMs ?? Date.now())),
      },
      encodeURIComponent,
    );
    const body = await requestJson<unknown>(url, { timeoutMs: this.config.timeout });
    const endpoint = describeEndpoint(url);

    const count = (name: 'requests' | 'errors'): number => {
      const raw = evaluateJsonPath(body, this.paths[name] ?? []);
      const value = finiteNumber(raw);
      if (value === undefined) {
        throw new TransientError(
          `${endpoint}: no values found for ${name} at ${this.config.fields[name]} (got ${describe(raw)})`,
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

    return {
      version,
      requests: count('requests'),
      errors: count('errors'),
      p50Ms: latency('p50Ms'),
      p99Ms: latency('p99Ms'),
    };
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
