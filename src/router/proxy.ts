import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import replyFrom from '@fastify/reply-from';
import type { ClientErrorReason, ClientErrorStats } from './client-errors';
import { cohortBucket } from './cohort';
import { resolveCohortKey } from './cohort-key';
import { withoutHopByHop } from './hop-by-hop';
import { parserErrorHandler } from './parser-errors';
import { checkRequestPath, joinTarget } from './request-path';
import type { RoutingTable } from './split';
import type { VersionStats } from './version-stats';

export const VERSION_HEADER = 'x-rollout-version';

export interface ProxyDeps {
  table: RoutingTable;
  stats: VersionStats;
  /** Requests the header route sent to the canary: counted apart, never part of the analysis. */
  matchedStats: VersionStats;
  clientErrors: ClientErrorStats;
  upstreamTimeoutMs: number;
}

/**
 * Whose failure is it? The rule the counters follow:
 *
 * - A failure caused by the client's request is never the version's error, and is not one of its
 *   requests either: a malformed request (parser errors), a refused method, a bad or escaping path,
 *   a body too large, a request the forwarding client cannot send as written. These are answered
 *   4xx and counted in `clientErrors`. Clients pick their cohort with x-user-id, so counting them
 *   against a version would let anyone force a rollback, or dilute a bad canary's error rate.
 * - A failure on the way to the version is the version's error: connection refused, a reset, an
 *   upstream timeout, a 5xx from the version, a response that breaks off after its headers. These
 *   are answered 502 (or passed through) and counted in the version's errors, so a canary that dies
 *   is still rolled back. Hop-by-hop headers are dropped before forwarding, so no header a client
 *   sends can turn a healthy version's answer into a 502.
 * - Neither counts against any version: the router's own failures (no route, a bug here), and a
 *   client that hangs up before its answer is complete.
 */
interface Outcome {
  version: string | null;
  clientError: ClientErrorReason | null;
  matched?: boolean;
}

/** The public side of the router: every method and path is forwarded to the version the user's cohort maps to. */
export async function buildProxy(deps: ProxyDeps): Promise<FastifyInstance> {
  const outcomes = new WeakMap<FastifyRequest, Outcome>();

  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    reason: ClientErrorReason,
    status: number,
    message: string,
  ): void => {
    outcomes.set(request, { version: outcomes.get(request)?.version ?? null, clientError: reason });
    void reply.code(status).send({ error: message });
  };

  const app = Fastify({
    logger: false,
    clientErrorHandler: parserErrorHandler(deps.clientErrors),
    // Fastify's own refusals before routing (malformed percent-encoding in the path, an overlong
    // path parameter). They run outside any route, so no onResponse hook will see them: count here.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      deps.clientErrors.record('bad-path', null);
      void reply.code(400).send({ error: error.message });
    },
  });
  // Node answers 417 to an `Expect` other than 100-continue before any route runs; count it here.
  app.server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    deps.clientErrors.record('invalid-request', null);
    const body = JSON.stringify({ error: 'only Expect: 100-continue is supported' });
    res.writeHead(417, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await app.register(replyFrom, {
    disableRequestLogging: true,
    // Request URLs are client-controlled; caching their parsed form buys nothing here.
    disableCache: true,
  });

  // Bodies are streamed through untouched instead of being parsed and re-serialised. That is also
  // why there is no body limit here: nothing is buffered, so a large upload costs the router nothing.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // Every path matches '/*', so "not found" means a method the route does not take (e.g. PROPFIND).
  app.setNotFoundHandler((request, reply) => {
    refuse(request, reply, 'method-not-allowed', 405, 'method not allowed');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      refuse(request, reply, status === 413 ? 'body-too-large' : 'invalid-request', status, error.message);
      return;
    }
    // The router's own fault: not the version's error.
    outcomes.delete(request);
    void reply.code(500).send({ error: 'router error' });
  });

  app.addHook('onResponse', (request, reply, done) => {
    const outcome = outcomes.get(request);
    if (outcome?.clientError != null) {
      deps.clientErrors.record(outcome.clientError, outcome.version);
    } else if (outcome?.version != null) {
      (outcome.matched ? deps.matchedStats : deps.stats).record(outcome.version, {
        isError: reply.statusCode >= 500,
        latencyMs: reply.elapsedTime,
        at: Date.now(),
      });
    }
    done();
  });

  app.all('/*', (request, reply) => {
    const requestTarget = request.raw.url ?? '/';
    // Also refuses absolute-form targets, which would let a client pick the upstream host.
    const path = checkRequestPath(requestTarget);
    if (!path.ok) {
      refuse(request, reply, 'bad-path', 400, path.reason);
      return;
    }

    const cohort = resolveCohortKey(request.headers);
    if (cohort.setCookie !== null) void reply.header('set-cookie', cohort.setCookie);

    const choice = deps.table.route(cohortBucket(cohort.key), request.headers);
    if (choice === null) {
      void reply.code(503).send({ error: 'no route' });
      return;
    }

    outcomes.set(request, { version: choice.version, clientError: null, matched: choice.matched === true });
    void reply.header(VERSION_HEADER, choice.version);
    const url = joinTarget(choice.target, requestTarget);
    if (url === null) {
      refuse(request, reply, 'bad-path', 400, 'path leaves the target');
      return;
    }
    try {
      forward(reply, {
        url,
        version: choice.version,
        timeoutMs: deps.upstreamTimeoutMs,
        notForwardable: (message) => refuse(request, reply, 'invalid-request', 400, message),
        failedMidResponse: () => {
          // The client has already seen the version's status line, and the response will never
          // finish, so onResponse would not count it at all: count the version's error here.
          if (outcomes.get(request)?.clientError !== null) return;
          outcomes.delete(request);
          (choice.matched ? deps.matchedStats : deps.stats).record(choice.version, {
            isError: true,
            latencyMs: reply.elapsedTime,
            at: Date.now(),
          });
        },
      });
    } catch (err) {
      // reply-from rejects some paths synchronously (e.g. a '..' in the query); the client's fault.
      refuse(request, reply, 'bad-path', 400, `invalid request path: ${(err as Error).message}`);
    }
  });

  return app;
}

interface Forwarding {
  url: string;
  version: string;
  timeoutMs: number;
  /** The request, as the client wrote it, cannot be sent; the version was never contacted. */
  notForwardable(message: string): void;
  /** The version's response broke off after its headers (reset, body timeout). */
  failedMidResponse(): void;
}

function forward(
  reply: FastifyReply,
  { url, version, timeoutMs, notForwardable, failedMidResponse }: Forwarding,
): void {
  reply.from(url, {
    timeout: timeoutMs,
    // reply-from retries GETs answered with 503 up to 10 times by default, which would hide
    // a failing canary from the error counters and multiply the load on it.
    retryDelay: () => null,
    rewriteRequestHeaders: (request, headers) => {
      // reply-from has already dropped `Connection` and what it lists; pass the client's original
      // so withoutHopByHop drops the same names even if that ever changes.
      const out = withoutHopByHop(headers, request.headers.connection);
      // Node has already answered `100 Continue` to the client, which is what it asked for; the
      // upstream gets the body straight away (undici refuses to send `Expect` at all).
      delete out.expect;
      // The router says which version served a request; a client must not be able to forge it.
      delete out[VERSION_HEADER];
      return out;
    },
    rewriteHeaders: (headers) => {
      const out = withoutHopByHop(headers);
      out[VERSION_HEADER] = version;
      return out;
    },
    onResponse: (request, fromReply, res) => {
      // reply-from's types say ServerResponse; at run time it passes the upstream answer.
      const body = (res as unknown as { stream: Readable }).stream;
      body.once('error', (err) => {
        // undici reports a body destroyed on our side (the client hung up) as UND_ERR_ABORTED:
        // that is the client leaving, not the version failing.
        if (codeOf(err) === 'UND_ERR_ABORTED' || request.raw.socket.destroyed) return;
        failedMidResponse();
      });
      void fromReply.send(body);
    },
    onError: (errReply, { error }) => {
      // undici validates the request before connecting. If it refuses, the request as the client
      // wrote it cannot be sent (the version was never contacted), so it is a client error.
      if (codeOf(error) === 'UND_ERR_INVALID_ARG' || codeOf(error.cause) === 'UND_ERR_INVALID_ARG') {
        notForwardable(`request not forwardable: ${error.message}`);
        return;
      }
      void errReply
        .code(502)
        .header(VERSION_HEADER, version)
        .send({ error: 'bad gateway', version, message: error.message });
    },
  });
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
