import { z } from 'zod';
import { envKey } from './patterns';
import { duration } from './duration';
import { jsonPathProblem } from './json-path';
import { httpUrl } from './patterns';
import { renderTemplate, templateVariables } from './template';

import { absolutePath, routeName, runtimeApiAddress } from './traffic';

export { trafficSchema, type TrafficConfig } from './traffic';

const metricsEmbedded = z
  .object({
    provider: z.literal('embedded').default('embedded'),
    // Defaults to the traffic router's admin API, which already measures both versions.
    adminUrl: httpUrl.optional(),
  })
  .strict();

/** A template may use only the named placeholders, and must use `required` ones. */
function template(allowed: readonly string[], required: readonly string[]) {
  return z
    .string()
    .min(1)
    .max(4000)
    .superRefine((text, ctx) => {
      const used = templateVariables(text);
      for (const name of new Set(used)) {
        if (!allowed.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown placeholder {{${name}}}; allowed: ${allowed.map((a) => `{{${a}}}`).join(', ')}`,
          });
        }
      }
      for (const name of required) {
        if (!used.includes(name)) {
          ctx.addIssue({ code: 'custom', message: `must contain {{${name}}}` });
        }
      }
    });
}

const PROMQL_PLACEHOLDERS = ['version', 'window'] as const;
const promql = template(PROMQL_PLACEHOLDERS, ['version']);

/** The defaults read the demo service's histogram; latencies are converted from seconds to ms. */
export const DEFAULT_PROMETHEUS_QUERIES = {
  requests: 'sum(increase(http_request_duration_seconds_count{version="{{version}}"}[{{window}}]))',
  errors: 'sum(increase(http_request_duration_seconds_count{version="{{version}}",code=~"5.."}[{{window}}]))',
  p50Ms:
    'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{version="{{version}}"}[{{window}}]))) * 1000',
  p99Ms:
    'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{version="{{version}}"}[{{window}}]))) * 1000',
  // Cumulative bucket counts, one series per `le`; only queried when the latency test asks for slow counts.
  latencyBuckets:
    'sum by (le) (increase(http_request_duration_seconds_bucket{version="{{version}}"}[{{window}}]))',
} as const;

const prometheusQueries = z
  .object({
    requests: promql.default(DEFAULT_PROMETHEUS_QUERIES.requests),
    errors: promql.default(DEFAULT_PROMETHEUS_QUERIES.errors),
    p50Ms: promql.default(DEFAULT_PROMETHEUS_QUERIES.p50Ms),
    p99Ms: promql.default(DEFAULT_PROMETHEUS_QUERIES.p99Ms),
    latencyBuckets: promql.default(DEFAULT_PROMETHEUS_QUERIES.latencyBuckets),
  })
  .strict();

const metricsPrometheus = z
  .object({
    provider: z.literal('prometheus'),
    // The server's base URL (a path prefix is kept: http://host/prometheus/api/v1/query).
    url: httpUrl,
    // Instant queries, each returning one series or nothing, except latencyBuckets (one series per
    // `le` label); {{version}} and {{window}} are filled in.
    queries: prometheusQueries.default(prometheusQueries.parse({})),
    // Milliseconds per unit of the histogram's `le` labels: 1000 for seconds (the Prometheus
    // convention), 1 for a histogram in milliseconds.
    bucketUnitMs: z.number().positive().default(1000),
    // {{window}} is the polled window in whole seconds, but never shorter than this: a range needs
    // at least two scrapes, so keep it at 2 × the scrape interval or more.
    minRange: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default(10_000),
    timeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(5_000),
  })
  .strict();

// {{slowerThanMs}} is allowed only with fields.slowRequests (checked on metricsHttp below).
const HTTP_PLACEHOLDERS = ['version', 'sinceMs', 'untilMs', 'slowerThanMs'] as const;

const urlTemplate = template(HTTP_PLACEHOLDERS, ['version']).superRefine((text, ctx) => {
  // Checked with sample values: the URL must be http(s) once the placeholders are filled in, both
  // with a slow bound and with none ({{slowerThanMs}} is empty when no bound is asked for).
  for (const slowerThanMs of ['52.5', '']) {
    let rendered: string;
    try {
      rendered = renderTemplate(
        text,
        { version: 'v1', sinceMs: '0', untilMs: '0', slowerThanMs },
        encodeURIComponent,
      );
    } catch {
      return; // reported by template()
    }
    if (!httpUrl.safeParse(rendered).success) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an http:// or https:// URL (with placeholders filled in)',
      });
      return;
    }
  }
});

const jsonPath = z
  .string()
  .max(500)
  .superRefine((path, ctx) => {
    const problem = jsonPathProblem(path);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: `${problem} (use keys and [index], like $.data.items[0].count)`,
      });
  });

const metricsHttp = z
  .object({
    provider: z.literal('http'),
    // GET, answering JSON; {{version}}, {{sinceMs}} and {{untilMs}} (epoch ms) are URL-encoded in,
    // and {{slowerThanMs}} (a latency bound in ms, e.g. 52.5) when fields.slowRequests is set.
    url: urlTemplate,
    fields: z
      .object({
        requests: jsonPath,
        errors: jsonPath,
        p50Ms: jsonPath.optional(),
        p99Ms: jsonPath.optional(),
        // Slow counts for the latency test, at most one of the two (see HttpMetricsProvider):
        // the count of requests slower than {{slowerThanMs}}, read from one GET per bound...
        slowRequests: jsonPath.optional(),
        // ...or a cumulative histogram [{ "le": ms | "+Inf", "count": n }, ...] from the one GET.
        latencyHistogram: jsonPath.optional(),
      })
      .strict(),
    timeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(5_000),
  })
  .strict()
  .superRefine(({ url, fields }, ctx) => {
    if (fields.slowRequests !== undefined && fields.latencyHistogram !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message: 'set fields.slowRequests or fields.latencyHistogram, not both',
      });
    }
    const hasBound = templateVariables(url).includes('slowerThanMs');
    if (fields.slowRequests !== undefined && !hasBound) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          'must contain {{slowerThanMs}} when fields.slowRequests is set: it passes the latency bound (ms) the count is for',
      });
    }
    if (fields.slowRequests === undefined && hasBound) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          '{{slowerThanMs}} is filled in only with fields.slowRequests; set that field or remove the placeholder',
      });
    }
  });

const metricsHaproxy = z
  .object({
    // HAProxy's own per-server counters (`show stat`), grouped into versions by the versions map.
    // Each defaults to the haproxy traffic section's.
    provider: z.literal('haproxy'),
    runtimeApi: runtimeApiAddress.optional(),
    backend: routeName.optional(),
    versionsMap: absolutePath.optional(),
    timeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(5_000),
  })
  .strict();

export const metricsSchema = z.discriminatedUnion(
  'provider',
  [metricsEmbedded, metricsPrometheus, metricsHttp, metricsHaproxy],
  {
    error: 'provider must be one of: embedded, prometheus, http, haproxy',
  },
);

export { deploySchema, type DeployConfig } from './deploy';

export const notifySchema = z
  .object({
    // References, not the secrets: webhook URLs embed tokens, and workflow inputs are stored in plaintext.
    // The generic JSON event body goes to this one...
    webhookUrlEnv: envKey.optional(),
    // ...and a Slack incoming-webhook body (text and blocks) to this one.
    slackWebhookUrlEnv: envKey.optional(),
  })
  .strict();

export type MetricsConfig = z.output<typeof metricsSchema>;
export type EmbeddedMetricsConfig = Extract<MetricsConfig, { provider: 'embedded' }>;
export type PrometheusMetricsConfig = Extract<MetricsConfig, { provider: 'prometheus' }>;
export type HttpMetricsConfig = Extract<MetricsConfig, { provider: 'http' }>;
export type HaproxyMetricsConfig = Extract<MetricsConfig, { provider: 'haproxy' }>;
/** After spec resolution the embedded and haproxy providers know where to read. */
export type ResolvedHaproxyMetricsConfig = HaproxyMetricsConfig &
  Required<Pick<HaproxyMetricsConfig, 'runtimeApi' | 'backend' | 'versionsMap'>>;
export type ResolvedMetricsConfig =
  | (EmbeddedMetricsConfig & { adminUrl: string })
  | PrometheusMetricsConfig
  | HttpMetricsConfig
  | ResolvedHaproxyMetricsConfig;
export type NotifyConfig = z.output<typeof notifySchema>;
