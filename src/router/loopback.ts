import net from 'node:net';

/** Strips the brackets of an IPv6 literal and a trailing dot, and lower-cases: `[::1]` is `::1`. */
export function bareHost(host: string): string {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return unbracketed.toLowerCase().replace(/\.$/, '');
}

/**
 * Whether a bind address or host name only ever reaches this machine: 127.0.0.0/8, ::1 (also as
 * an IPv4-mapped ::ffff:127.x) and localhost. Wildcards (0.0.0.0, ::) are not loopback: they
 * listen on every interface.
 */
export function isLoopbackHost(host: string): boolean {
  const name = bareHost(host);
  if (name === 'localhost') return true;
  if (net.isIPv4(name)) return name.startsWith('127.');
  if (!net.isIPv6(name)) return false;
  // The URL parser writes every spelling of an IPv6 address in one canonical form.
  const canonical = new URL(`http://[${name}]/`).hostname;
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}
