import { InvalidArgumentError } from 'commander';
import { DEFAULT_TOKEN_ENV, resolveToken } from './access';
import { DashboardSettingsError } from './settings-error';

import { DASHBOARD_URL_ENV, WEB_UI_URL_ENV } from '../temporal/links';

export { DASHBOARD_URL_ENV, WEB_UI_URL_ENV };
const DEFAULT_WEB_UI_URL = 'http://localhost:8233';

export interface DashboardFlags {
  port: number;
  host: string;
  tokenEnv: string;
  webUiUrl?: string;
  publicUrl?: string;
}

export interface DashboardSettings {
  port: number;
  host: string;
  tokenEnv: string;
  token: string | undefined;
  webUiUrl: string;
  publicUrl: string | undefined;
}

/** --port: 0 takes any free port (the URL printed on start says which). */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n > 65535)
    throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

/** An http(s) URL without a trailing slash; anything else (javascript:, a typo) is refused. */
export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('must be an http:// or https:// URL');
  return url.href.replace(/\/+$/, '');
}

/** Flags first, then the environment, then defaults; throws DashboardSettingsError. */
export function dashboardSettings(flags: DashboardFlags, env: NodeJS.ProcessEnv): DashboardSettings {
  const fromEnv = (name: string, what: string): string | undefined => {
    const value = env[name];
    if (!value) return undefined;
    try {
      return httpUrl(value);
    } catch (err) {
      throw new DashboardSettingsError(`${name} (${what}) ${(err as Error).message}`);
    }
  };
  return {
    port: flags.port,
    host: flags.host,
    tokenEnv: flags.tokenEnv,
    token: resolveToken(flags.host, flags.tokenEnv, env),
    webUiUrl: flags.webUiUrl ?? fromEnv(WEB_UI_URL_ENV, 'the Temporal Web UI') ?? DEFAULT_WEB_UI_URL,
    publicUrl: flags.publicUrl ?? fromEnv(DASHBOARD_URL_ENV, "the dashboard's public URL"),
  };
}

export const DEFAULT_FLAGS = { port: 8090, host: '127.0.0.1', tokenEnv: DEFAULT_TOKEN_ENV } as const;
