import type { z } from 'zod';
import type { TrafficConfig } from './traffic';

interface RoutedGroup {
  /** Where the group is in the spec, e.g. ['canary'] or ['environments', 'blue']. */
  path: (string | number)[];
  value: { routes?: unknown } | undefined;
}

const LB_NAME: Record<string, string> = {
  haproxy: 'HAProxy server names in traffic.backend',
  nginx: 'NGINX upstream names from your config',
  command: 'the names your command routes to',
};

/**
 * The embedded router proxies to `targets` itself; every other load balancer routes by its own
 * names (`routes`), while `targets` stay the URLs the checks probe. A spec that mixes them up would
 * steer nothing, or the wrong thing: refused with the path of each group.
 */
export function checkRoutes(
  ctx: z.RefinementCtx,
  traffic: Partial<TrafficConfig> | undefined,
  groups: RoutedGroup[],
): void {
  const provider = traffic?.provider ?? 'embedded';
  for (const { path, value } of groups) {
    if (value === undefined || value === null) continue;
    const hasRoutes = value.routes !== undefined;
    if (provider === 'embedded' && hasRoutes) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'routes'],
        message:
          'the embedded router routes to targets; routes are for traffic.provider haproxy, nginx or command',
      });
    }
    if (provider !== 'embedded' && !hasRoutes && LB_NAME[provider]) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'routes'],
        message: `required with traffic.provider ${provider}: ${LB_NAME[provider]} (targets stay the URLs the checks probe)`,
      });
    }
  }
}

/** A header route the load balancer cannot apply is refused before anything starts. */
export function checkHeaderMatch(
  ctx: z.RefinementCtx,
  traffic: Partial<TrafficConfig> | undefined,
  match: { headers?: Record<string, unknown> } | undefined,
): void {
  if (match?.headers === undefined || traffic?.provider !== 'haproxy') return;
  const path = ['canary', 'match', 'headers'];
  if (traffic.matchHeader === undefined) {
    ctx.addIssue({
      code: 'custom',
      path,
      message:
        'traffic.matchMap and traffic.matchHeader are needed for header routes on haproxy (see docs/haproxy.cfg)',
    });
    return;
  }
  const names = Object.keys(match.headers);
  if (names.length !== 1 || names[0] !== traffic.matchHeader) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `haproxy's config looks up one header, ${traffic.matchHeader} (traffic.matchHeader): match on it alone`,
    });
  }
}

/** The router's admin address, which no target may be; only the embedded router has one. */
export function routerAdminUrl(traffic: Partial<TrafficConfig> | undefined): string | undefined {
  return traffic?.provider === undefined || traffic.provider === 'embedded'
    ? (traffic as { adminUrl?: string } | undefined)?.adminUrl
    : undefined;
}
