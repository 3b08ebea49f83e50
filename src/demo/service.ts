import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import { VERSION_PATTERN } from '../spec/patterns';
import { issuesFromZod } from '../spec/errors';
import { applyFaults, DEFAULT_FAULTS, type Faults, faultsPatchSchema } from './faults';
import { createServiceMetrics } from './metrics';

/** How long a closing service keeps answering the requests it already holds. */
const DRAIN_MS = 5000;

export type { Faults } from './faults';

export interface DemoServiceHandle {
  url: string;
  version: string;
  setFaults(f: Partial<Faults>): void;
  close(): Promise<void>;
}

export interface DemoServiceOptions {
  version: string;
  port?: number;
  host?: string;
  faults?: Partial<Faults>;
}

export const SERVICE_VERSION_HEADER = 'x-service-version';

/** A stand-in for a deployed application version whose failure modes can be switched on at runtime. */
export async function startDemoService(opts: DemoServiceOptions): Promise<DemoServiceHandle> {
  const { version } = opts;
  if (!VERSION_PATTERN.test(version)) {
    throw new Error(`invalid version ${JSON.stringify(version)}: must match ${VERSION_PATTERN.source}`);
  }
  let faults = applyFaults(DEFAULT_FAULTS, faultsPatchSchema.parse(opts.faults ?? {}));
  // Injected delays can be long: closing lets requests in flight finish (a retired version must not
  // fail the users it was still answering), but gives up on them after DRAIN_MS.
  const shutdown = new AbortController();
  // Every delayed request listens on this signal; many concurrent ones are expected, not a leak.
  setMaxListeners(0, shutdown.signal);

  const app = Fastify({ logger: false });
  const metrics = createServiceMetrics(version);

  app.addHook('onRequest', async (_request, reply) => {
    void reply.header(SERVICE_VERSION_HEADER, version);
  });
  // Every answered request, measured from arrival; metrics.observe() skips the service's own endpoints.
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.url.split('?', 1)[0] as string, reply.statusCode, reply.elapsedTime / 1000);
  });
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
    setTimeout(() => shutdown.abort(), DRAIN_MS).unref();
  });
  // While draining, every answer closes its connection: an idle keep-alive socket would hold close().
  app.addHook('onSend', async (_request, reply) => {
    if (draining) void reply.header('connection', 'close');
  });

  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.contentType).send(await metrics.render()),
  );

  app.get('/healthz', async (_request, reply) =>
    faults.failHealth
      ? reply.code(503).send({ status: 'failing', version })
      : reply.send({ status: 'ok', version }),
  );

  app.get('/smoke', async (_request, reply) =>
    faults.failSmoke ? reply.code(500).send({ ok: false }) : reply.send({ ok: true, version }),
  );

  app.get('/__faults', async () => faults);

  app.post('/__faults', async (request, reply) => {
    const parsed = faultsPatchSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      return reply.code(400).send({ error: 'invalid faults', issues: issuesFromZod(parsed.error) });
    }
    faults = applyFaults(faults, parsed.data);
    return faults;
  });

  await app.register(async (catchAll) => {
    // Application traffic may carry any body; it is read and ignored rather than rejected.
    catchAll.removeAllContentTypeParsers();
    catchAll.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) =>
      done(null, undefined),
    );

    catchAll.all('/*', async (request, reply) => {
      const { errorRate, latencyMs } = faults;
      if (latencyMs > 0) {
        try {
          await delay(latencyMs, undefined, { signal: shutdown.signal });
        } catch {
          return reply.code(503).send({ error: 'shutting down', version });
        }
      }
      if (Math.random() < errorRate) {
        return reply.code(500).send({ error: 'injected fault', version });
      }
      return reply.send({ version, path: request.url.split('?', 1)[0] });
    });
  });

  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.address;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    version,
    setFaults(patch) {
      faults = applyFaults(faults, faultsPatchSchema.parse(patch));
    },
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
