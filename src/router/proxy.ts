import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import replyFrom from '@fastify/reply-from';
import { cohortBucket } from './cohort';
import { resolveCohortKey } from './cohort-key';
import type { RoutingTable } from './split';
import type { VersionStats } from './version-stats';

export const VERSION_HEADER = 'x-rollout-version';

export interface ProxyDeps {
  table: RoutingTable;
  stats: VersionStats;
  upstreamTimeoutMs: number;
}

/** The public side of the router: every method and path is forwarded to the version the user's cohort maps to. */
export async function buildProxy(deps: ProxyDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(replyFrom, {
    disableRequestLogging: true,
    // Request URLs are client-controlled; caching their parsed form buys nothing here.
    disableCache: true,
  });

  // Bodies are streamed through untouched instead of being parsed and re-serialised.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const routedVersion = new WeakMap<FastifyRequest, string>();

  app.addHook('onResponse', (request, reply, done) => {
    const version = routedVersion.get(request);
    if (version !== undefined) {
      deps.stats.record(version, {
        isError: reply.statusCode >= 500,
        latencyMs: reply.elapsedTime,
        at: Date.now(),
      });
    }
    done();
  });

  app.all('/*', (request, reply) => {
    const path = request.raw.url ?? '/';
    // Absolute-form request targets would let a client pick the upstream host.
    if (!path.startsWith('/')) {
      void reply.code(400).send({ error: 'request target must be a path' });
      return;
    }

    const cohort = resolveCohortKey(request.headers);
    if (cohort.setCookie !== null) void reply.header('set-cookie', cohort.setCookie);

    const choice = deps.table.route(cohortBucket(cohort.key));
    if (choice === null) {
      void reply.code(503).send({ error: 'no route' });
      return;
    }

    routedVersion.set(request, choice.version);
    void reply.header(VERSION_HEADER, choice.version);
    try {
      forward(reply, joinTarget(choice.target, path), choice.version, deps.upstreamTimeoutMs);
    } catch (err) {
      // reply-from rejects malformed or traversal paths synchronously; that is the client's fault, not the version's.
      routedVersion.delete(request);
      void reply.code(400).send({ error: 'invalid request path', message: (err as Error).message });
    }
  });

  return app;
}

function forward(reply: FastifyReply, url: string, version: string, timeoutMs: number): void {
  reply.from(url, {
    timeout: timeoutMs,
    // reply-from retries GETs answered with 503 up to 10 times by default, which would hide
    // a failing canary from the error counters and multiply the load on it.
    retryDelay: () => null,
    rewriteHeaders: (headers) => ({ ...headers, [VERSION_HEADER]: version }),
    onError: (errReply, { error }) => {
      void errReply
        .code(502)
        .header(VERSION_HEADER, version)
        .send({ error: 'bad gateway', version, message: error.message });
    },
  });
}

function joinTarget(target: string, path: string): string {
  return (target.endsWith('/') ? target.slice(0, -1) : target) + path;
}
