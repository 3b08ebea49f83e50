import os from 'node:os';
import { targetAddress } from '../spec/target-url';
import { isLoopbackHost } from './loopback';

export interface Listener {
  /** The interface it was bound to, as given (`0.0.0.0`, `127.0.0.1`, a name). */
  bindHost: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** This machine's interface addresses: what a wildcard bind answers on besides loopback. */
function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((info) => info.address);
}

const literal = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/**
 * Whether a target reaches one of the router's own listeners: its bind address, for a wildcard
 * bind every loopback and interface address, and the extra names it is known by
 * (ROUTER_ADMIN_HOSTS). Addresses are compared as the spec compares targets (`localhost`,
 * `127.0.0.1`, `[::1]` and `0.0.0.0` are one host; the scheme and path make no difference). Such a
 * target would send proxied requests back into the router, and a proxied PUT /admin/split into its
 * admin API. A DNS name that merely resolves here is unknown to the router, and is not caught.
 */
export function ownAddressCheck(
  listeners: readonly Listener[],
  names: readonly string[],
): (target: string) => boolean {
  const own = new Set<string>();
  const wildcardPorts = new Set<string>();
  for (const { bindHost, port } of listeners) {
    const wildcard = WILDCARDS.has(bindHost);
    if (wildcard) wildcardPorts.add(String(port));
    for (const host of [bindHost, ...(wildcard ? interfaceAddresses() : []), ...names]) {
      const address = targetAddress(`http://${literal(host)}:${port}`);
      if (address !== undefined) own.add(address);
    }
  }
  return (target) => {
    const address = targetAddress(target);
    if (address === undefined) return false;
    if (own.has(address)) return true;
    // A wildcard bind also owns 127.0.0.2 and the rest of 127.0.0.0/8 on its port.
    const url = new URL(target);
    return isLoopbackHost(url.hostname) && wildcardPorts.has(address.slice(address.lastIndexOf(':') + 1));
  };
}
