import type { FastifyInstance, FastifyReply } from 'fastify';
import { authorizedBy, originAllowed } from './access';

export interface DashboardGuard {
  /** Undefined: no token, which only a loopback dashboard may run without. */
  token?: string;
  hostAllowed(host: string | undefined): boolean;
  /** The origin of --public-url: behind a proxy that rewrites Host, the page's Origin is this one. */
  publicOrigin?: string;
}

/** The page and its assets (assets.ts): the same for everyone, and without data. */
const PUBLIC_ROUTES = new Set(['/', '/rollouts/:id', '/favicon.ico', '/static/:name']);

const mediaType = (header: string | undefined): string => (header ?? '').split(';')[0]!.trim().toLowerCase();

// Answers never quote what was sent: neither the Host, nor a presented token.
const refuse = (reply: FastifyReply, status: number, error: string): FastifyReply =>
  reply.code(status).send({ error });

/**
 * Checks before any route, in this order:
 * - Host must name this server (421), against DNS rebinding;
 * - the API needs the token, as a bearer header or the session cookie (401). The page and its
 *   scripts are the same for everyone and carry no data, so they are served without it: a link from
 *   an alert is a cross-site navigation, which never carries a SameSite=Strict cookie, and the page
 *   would otherwise refuse the very people the alert was for;
 * - writes must be application/json (415), which no form on another site can send, and, unless a
 *   bearer header authorised them, come from this server's own origin (403).
 */
export function guardRequests(app: FastifyInstance, guard: DashboardGuard): void {
  app.addHook('onRequest', async (request, reply) => {
    const { host, origin, authorization, cookie } = request.headers;
    if (!guard.hostAllowed(host)) return refuse(reply, 421, 'Host is not a name of this dashboard');
    // By the route that matched, never by the raw URL: the router decodes the path first, so
    // `/%61pi/…` reaches an /api route. Anything not known to be public is guarded (fail closed).
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return undefined;
    const by = guard.token === undefined ? null : authorizedBy({ authorization, cookie }, guard.token);
    if (guard.token !== undefined && by === null) {
      void reply.header('www-authenticate', 'Bearer');
      return refuse(
        reply,
        401,
        'unauthorized: open the dashboard with ?token=… once, or send a bearer token',
      );
    }
    if (request.method === 'GET' || request.method === 'HEAD') return undefined;
    if (mediaType(request.headers['content-type']) !== 'application/json') {
      return refuse(reply, 415, 'writes must be content-type: application/json');
    }
    const fetchSite = request.headers['sec-fetch-site'];
    const sameOrigin =
      (originAllowed(origin, host) || (origin !== undefined && origin === guard.publicOrigin)) &&
      (fetchSite === undefined || fetchSite === 'same-origin');
    if (by !== 'bearer' && !sameOrigin) return refuse(reply, 403, 'writes must come from the dashboard page');
    return undefined;
  });
}
