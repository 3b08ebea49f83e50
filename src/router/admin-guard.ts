import type { FastifyInstance, FastifyReply } from 'fastify';
import { bearerMatches } from './admin-auth';

export interface AdminGuard {
  /** Bearer token every request except GET /healthz must carry; undefined: none required. */
  token?: string;
  /** Whether a Host header names this router. */
  hostAllowed(host: string | undefined): boolean;
}

const WRITES = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);

// Answers never quote what was sent: neither the Host, nor the presented token.
function refuse(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).send({ error, issues: [] });
}

const mediaType = (header: string | undefined): string => (header ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * Checks that run before any route, in this order:
 * - Host: a name that is not this router's is a DNS-rebinding page talking to a loopback port (421).
 * - the bearer token, when one is set (401); GET /healthz stays open for container health checks.
 * - writes must be application/json (415): a web page can send text/plain or a form to any address
 *   without a CORS preflight, but never application/json.
 */
export function guardAdminRequests(app: FastifyInstance, guard: AdminGuard): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!guard.hostAllowed(request.headers.host)) {
      return refuse(reply, 421, 'Host is not a name of this admin API');
    }
    const path = request.url.split('?')[0];
    const open = request.method === 'GET' && path === '/healthz';
    if (guard.token !== undefined && !open && !bearerMatches(request.headers.authorization, guard.token)) {
      void reply.header('www-authenticate', 'Bearer');
      return refuse(reply, 401, 'unauthorized');
    }
    if (WRITES.has(request.method) && mediaType(request.headers['content-type']) !== 'application/json') {
      return refuse(reply, 415, 'writes must be content-type: application/json');
    }
    return undefined;
  });
}
