import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { formatPath, issuesFromZod, type SpecIssue } from '../spec/errors';
import { type AdminGuard, guardAdminRequests } from './admin-guard';
import type { ClientErrorStats, ClientErrorTotals } from './client-errors';
import type { RoutingTable, SplitHistoryEntry } from './split';
import { type SplitUpdate, splitUpdateSchema } from './split-schema';
import type { VersionStats, VersionTotals } from './version-stats';

/** The answer to GET /admin/stats: what the router counted since its last reset. */
export interface AdminStats {
  versions: Record<string, VersionTotals>;
  headerMatched: Record<string, VersionTotals>;
  clientErrors: ClientErrorTotals;
  splitHistory: SplitHistoryEntry[];
}

export interface AdminDeps {
  table: RoutingTable;
  stats: VersionStats;
  matchedStats: VersionStats;
  clientErrors: ClientErrorStats;
  guard: AdminGuard;
  /** Whether a target is the router's own proxy or admin address; known once it listens. */
  isOwnAddress(target: string): boolean;
}

/**
 * Targets that are the router itself: proxied requests to them would come back in, and a proxied
 * PUT /admin/split would change the live split.
 */
function selfTargets(split: SplitUpdate, isOwn: (target: string) => boolean): SpecIssue[] {
  const routes = [['stable', split.stable] as const, ['canary', split.canary] as const];
  return routes.flatMap(([name, route]) =>
    (route?.targets ?? []).flatMap((target, i) =>
      isOwn(target)
        ? [
            {
              path: formatPath([name, 'targets', i]),
              message: `${target} is the router's own proxy or admin address`,
            },
          ]
        : [],
    ),
  );
}

const epochMs = z
  .string()
  .regex(/^\d{1,16}$/, 'must be epoch milliseconds')
  .transform((value) => Number(value));

const MILLISECONDS = /^\d{1,9}(\.\d{1,6})?$/;
const MAX_BOUNDS = 8;

const metricsQuerySchema = z
  .object({
    version: z.string().min(1).max(200),
    sinceMs: epochMs,
    untilMs: epochMs.optional(),
    // Requests slower than this are counted separately, for the sequential latency test.
    // Empty is absent: a URL template with {{slowerThanMs}} renders it empty when there is no bound.
    slowerThanMs: z
      .string()
      .regex(MILLISECONDS, 'must be milliseconds')
      .transform((value) => Number(value))
      .or(z.literal('').transform(() => undefined))
      .optional(),
    // Several bounds at once, comma-separated: slowCounts[i] counts requests slower than boundsMs[i].
    boundsMs: z
      .string()
      .max(200)
      .refine(
        (value) =>
          value.split(',').length <= MAX_BOUNDS && value.split(',').every((v) => MILLISECONDS.test(v)),
        `must be up to ${MAX_BOUNDS} comma-separated milliseconds`,
      )
      .transform((value) => value.split(',').map(Number))
      .optional(),
  })
  .refine((q) => q.untilMs === undefined || q.untilMs >= q.sinceMs, {
    path: ['untilMs'],
    message: 'must be >= sinceMs',
  });

const ADMIN_BODY_LIMIT = 64 * 1024;

export function buildAdminApi(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: ADMIN_BODY_LIMIT });

  // Tolerate an empty JSON body: callers often send the header on body-less POSTs such as reset-stats.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      const error = new Error('body is not valid JSON') as FastifyError;
      error.statusCode = 400;
      done(error, undefined);
    }
  });

  // Keep every error in the same {error, issues} shape the validation failures use.
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    void reply.code(status).send({ error: error.message, issues: [] });
  });

  guardAdminRequests(app, deps.guard);

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/admin/split', async () => deps.table.view());

  app.put('/admin/split', async (request, reply) => {
    const parsed = splitUpdateSchema.safeParse(request.body);
    if (!parsed.success) {
      return reply.code(400).send({ error: 'invalid split', issues: issuesFromZod(parsed.error) });
    }
    const loops = selfTargets(parsed.data, (target) => deps.isOwnAddress(target));
    if (loops.length > 0) {
      return reply
        .code(400)
        .send({ error: "invalid split: a target is the router's own address", issues: loops });
    }
    return deps.table.apply(parsed.data);
  });

  app.get('/admin/metrics', async (request, reply) => {
    const parsed = metricsQuerySchema.safeParse(request.query);
    if (!parsed.success) {
      return reply.code(400).send({ error: 'invalid metrics query', issues: issuesFromZod(parsed.error) });
    }
    const { version, sinceMs, untilMs, slowerThanMs, boundsMs } = parsed.data;
    return deps.stats.window(version, sinceMs, untilMs ?? Date.now(), slowerThanMs, boundsMs);
  });

  app.get('/admin/stats', async (): Promise<AdminStats> => ({
    versions: deps.stats.snapshotTotals(),
    // Testers the header route sent to the canary: left out of the analysis (see README).
    headerMatched: deps.matchedStats.snapshotTotals(),
    // Requests refused for what the client sent; never part of any version's requests or errors.
    clientErrors: deps.clientErrors.snapshot(),
    splitHistory: deps.table.history(),
  }));

  app.post('/admin/reset-stats', async () => {
    deps.stats.reset();
    deps.matchedStats.reset();
    deps.clientErrors.reset();
    deps.table.clearHistory();
    return { ok: true };
  });

  return app;
}
