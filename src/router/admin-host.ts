import { bareHost, isLoopbackHost } from './loopback';

/** Extra names the admin API answers to (comma-separated), e.g. the docker-compose service name. */
export const ADMIN_HOSTS_ENV = 'ROUTER_ADMIN_HOSTS';

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The names of a comma-separated list, normalised; empty entries are dropped. */
export function parseHostList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((name) => bareHost(name.trim()))
    .filter((name) => name !== '');
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), or undefined when malformed. */
function hostnameOf(header: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^[\]:]+)(:\d{1,5})?$/.exec(header.trim());
  return match?.[1] === undefined ? undefined : bareHost(match[1]);
}

/**
 * Which Host headers the admin API accepts. A page on another site can make a browser send requests
 * to a loopback port under its own name (DNS rebinding); the browser still sends that name as Host,
 * so only names that are this router's own get through: loopback, the admin bind address, and the
 * configured extra names. A wildcard bind has no name of its own.
 */
export function hostAllowList(
  adminHost: string,
  extraNames: readonly string[],
): (header: string | undefined) => boolean {
  const allowed = new Set(extraNames.map(bareHost));
  const bind = bareHost(adminHost);
  if (!WILDCARDS.has(bind)) allowed.add(bind);
  return (header) => {
    const name = header === undefined ? undefined : hostnameOf(header);
    return name !== undefined && (isLoopbackHost(name) || allowed.has(name));
  };
}
