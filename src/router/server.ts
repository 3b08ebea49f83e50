import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildAdminApi } from './admin-api';
import { checkAdminExposure } from './admin-auth';
import { hostAllowList } from './admin-host';
import { ClientErrorStats } from './client-errors';
import { ownAddressCheck } from './own-addresses';
import { buildProxy } from './proxy';
import { RoutingTable } from './split';
import { VersionStats } from './version-stats';

export interface RouterHandle {
  url: string;
  adminUrl: string;
  close(): Promise<void>;
}

export interface RouterOptions {
  /** 0 (the default) picks an ephemeral port. */
  port?: number;
  adminPort?: number;
  /** Interface for the proxy. */
  host?: string;
  /**
   * Interface for the admin API. Loopback by default because it can redirect all traffic; anything
   * beyond loopback needs adminToken, and should still be a private network the worker shares
   * (docker-compose).
   */
  adminHost?: string;
  /**
   * Bearer token for every admin request except GET /healthz (ROUTER_ADMIN_TOKEN in main.ts).
   * Undefined: none, which startRouter only allows on a loopback admin API.
   */
  adminToken?: string;
  /**
   * Names besides loopback and adminHost that reach this router (ROUTER_ADMIN_HOSTS in main.ts):
   * accepted as the admin API's Host, and refused as targets.
   */
  adminHosts?: readonly string[];
  upstreamTimeoutMs?: number;
}

const ADMIN_HOST = '127.0.0.1';
const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;

export async function startRouter(opts: RouterOptions = {}): Promise<RouterHandle> {
  const host = opts.host ?? '127.0.0.1';
  const adminHost = opts.adminHost ?? ADMIN_HOST;
  const adminHosts = opts.adminHosts ?? [];
  checkAdminExposure(adminHost, opts.adminToken);
  const table = new RoutingTable();
  const stats = new VersionStats();
  const matchedStats = new VersionStats();
  const clientErrors = new ClientErrorStats();
  const proxy = await buildProxy({
    table,
    stats,
    matchedStats,
    clientErrors,
    upstreamTimeoutMs: opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
  });
  // Set as soon as both listen, before the admin API can have handled any request.
  let isOwnAddress = (_target: string): boolean => false;
  const admin = buildAdminApi({
    table,
    stats,
    matchedStats,
    clientErrors,
    guard: { token: opts.adminToken, hostAllowed: hostAllowList(adminHost, adminHosts) },
    isOwnAddress: (target) => isOwnAddress(target),
  });

  const started: FastifyInstance[] = [];
  try {
    await proxy.listen({ port: opts.port ?? 0, host });
    started.push(proxy);
    await admin.listen({ port: opts.adminPort ?? 0, host: adminHost });
    started.push(admin);
    isOwnAddress = ownAddressCheck(
      [
        { bindHost: host, port: portOf(proxy) },
        { bindHost: adminHost, port: portOf(admin) },
      ],
      adminHosts,
    );
  } catch (err) {
    await Promise.allSettled([proxy.close(), admin.close()]);
    throw err;
  }

  let closing: Promise<void> | null = null;
  return {
    url: urlOf(proxy),
    adminUrl: urlOf(admin),
    close() {
      closing ??= Promise.all([proxy.close(), admin.close()]).then(() => undefined);
      return closing;
    },
  };
}

const portOf = (app: FastifyInstance): number => (app.server.address() as AddressInfo).port;

/** Wildcard binds are reported as loopback so the URL is directly usable by local clients. */
function urlOf(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
