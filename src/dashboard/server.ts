import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { registerApi } from './api';
import { registerAssets } from './assets';
import type { RolloutBackend } from './backend';
import { guardRequests } from './guard';
import { ownHostCheck } from './own-hosts';

export interface DashboardOptions {
  backend: RolloutBackend;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Required by every API request when set (access.ts resolveToken decides whether it must be). */
  token?: string;
  /** The URL people reach it by, when that is not the bind address (a reverse proxy). */
  publicUrl?: string;
  webUiUrl: string;
}

export interface DashboardHandle {
  url: string;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<DashboardHandle> {
  // Signals carry at most a reason: nothing the page sends comes near this.
  const app = Fastify({ bodyLimit: 16 * 1024 });
  guardRequests(app, {
    token: options.token,
    hostAllowed: ownHostCheck(options.host, options.publicUrl),
    ...(options.publicUrl ? { publicOrigin: new URL(options.publicUrl).origin } : {}),
  });
  registerAssets(app, options.token);
  registerApi(app, { backend: options.backend, webUiUrl: options.webUiUrl });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  // A wildcard bind is reported as loopback, so the printed URL opens on this machine.
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () => (closing ??= app.close()),
  };
}
