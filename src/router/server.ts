import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildAdminApi } from './admin-api';
import { ClientErrorStats } from './client-errors';
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
   * Interface for the admin API. Loopback by default because it can redirect all traffic and has no
   * authentication; only open it on a private network the worker shares (docker-compose).
   */
  adminHost?: string;
  upstreamTimeoutMs?: number;
}

const ADMIN_HOST = '127.0.0.1';
const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;

export async function startRouter(opts: RouterOptions = {}): Promise<RouterHandle> {
  const table = new RoutingTable();
  const stats = new VersionStats();
  const clientErrors = new ClientErrorStats();
  const proxy = await buildProxy({
    table,
    stats,
    clientErrors,
    upstreamTimeoutMs: opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
  });
  const admin = buildAdminApi({ table, stats, clientErrors });

  const started: FastifyInstance[] = [];
  try {
    await proxy.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
    started.push(proxy);
    await admin.listen({ port: opts.adminPort ?? 0, host: opts.adminHost ?? ADMIN_HOST });
    started.push(admin);
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

/** Wildcard binds are reported as loopback so the URL is directly usable by local clients. */
function urlOf(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
