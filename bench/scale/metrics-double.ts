import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The rollouts' metrics source: one loopback endpoint for every service, read through the `http`
 * metrics provider, answering "no requests" at once (the issue's scenario: rollouts baking with no
 * traffic). It is also the poll clock: every read of a service's canary version is one poll, and its
 * arrival time is recorded here, on the bench's side of the wire. That works the same whether the
 * workflow reads metrics in an activity or a local activity, and needs no history reads.
 */
export interface MetricsDouble {
  /** The spec's metrics section for one service. */
  metricsFor(service: string): Record<string, unknown>;
  /** performance.now() of each canary read of the service, in arrival order. */
  polls(service: string): readonly number[];
  /** How many services have been polled at least once. */
  polledServices(): number;
  /** Every read answered so far (both versions, any service). */
  reads(): number;
  close(): Promise<void>;
}

// A histogram with one finite edge, so that the sequential latency test accepts the source; with
// no requests it stays unarmed, as it would on a real idle service.
const EMPTY_ANSWER = JSON.stringify({
  requests: 0,
  errors: 0,
  histogram: [
    { le: 100, count: 0 },
    { le: '+Inf', count: 0 },
  ],
});

export async function startMetricsDouble(canaryVersion: string): Promise<MetricsDouble> {
  const arrivals = new Map<string, number[]>();
  let reads = 0;
  const server: Server = createServer((request, response) => {
    const at = performance.now();
    const url = new URL(request.url ?? '/', 'http://double');
    const service = /^\/m\/([a-z0-9-]+)$/.exec(url.pathname)?.[1];
    if (service === undefined) {
      response.writeHead(404).end();
      return;
    }
    reads++;
    if (url.searchParams.get('version') === canaryVersion) {
      const list = arrivals.get(service);
      if (list) list.push(at);
      else arrivals.set(service, [at]);
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(EMPTY_ANSWER);
  });
  // Many rollouts poll at once: a short backlog would refuse connections and fail polls.
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    metricsFor: (service) => ({
      provider: 'http',
      url: `${base}/m/${service}?version={{version}}&sinceMs={{sinceMs}}&untilMs={{untilMs}}`,
      fields: { requests: '$.requests', errors: '$.errors', latencyHistogram: '$.histogram' },
    }),
    polls: (service) => arrivals.get(service) ?? [],
    polledServices: () => arrivals.size,
    reads: () => reads,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
