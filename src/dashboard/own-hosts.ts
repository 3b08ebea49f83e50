import os from 'node:os';
import { hostAllowList } from '../router/admin-host';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * Which Host headers name this dashboard: loopback, the bind address (for a wildcard bind, every
 * interface address), and the host of its public URL (a reverse proxy's name, the one alerts link
 * to). Anything else is a DNS-rebinding page talking to this port under a name of its own.
 */
export function ownHostCheck(
  bindHost: string,
  publicUrl: string | undefined,
  interfaces: () => string[] = interfaceAddresses,
): (host: string | undefined) => boolean {
  const names = WILDCARDS.has(bindHost) ? interfaces() : [];
  if (publicUrl !== undefined) names.push(new URL(publicUrl).hostname);
  return hostAllowList(bindHost, names);
}

function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((info) => info.address);
}
