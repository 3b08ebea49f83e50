import { Histogram, Registry } from 'prom-client';

export const REQUEST_DURATION_METRIC = 'http_request_duration_seconds';

/** 1 ms to 10 s: fine enough to tell a healthy version (a few ms) from one with injected latency. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** The service's own endpoints: probes and scrapes are not user traffic and are not measured. */
const UNMEASURED_PATHS = new Set(['/metrics', '/healthz', '/smoke', '/__faults']);

export interface ServiceMetrics {
  /** Records one answered request, unless its path is one of the service's own endpoints. */
  observe(path: string, statusCode: number, seconds: number): void;
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * Prometheus metrics of one demo service instance. Each instance has its own registry (tests run
 * several services in one process, and the global registry would mix them up).
 */
export function createServiceMetrics(version: string): ServiceMetrics {
  const registry = new Registry();
  const duration = new Histogram({
    name: REQUEST_DURATION_METRIC,
    help: 'Duration of user requests answered by the demo service, by version and status code.',
    labelNames: ['version', 'code'] as const,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  // Series that exist from the first scrape start at 0, so increase() also counts the requests
  // before the second scrape; a series that first appears with a value would hide them.
  for (const code of ['200', '500']) duration.zero({ version, code });

  return {
    observe(path, statusCode, seconds) {
      if (UNMEASURED_PATHS.has(path)) return;
      duration.observe({ version, code: String(statusCode) }, seconds);
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
