import { createHash, timingSafeEqual } from 'node:crypto';
import { bearerMatches } from '../router/admin-auth';
import { isLoopbackHost } from '../router/loopback';
import { DashboardSettingsError } from './settings-error';

export const DEFAULT_TOKEN_ENV = 'ROLLOUT_DASHBOARD_TOKEN';
export const SESSION_COOKIE = 'rollout_dashboard';

const MIN_TOKEN_LENGTH = 16;
// Visible ASCII only: anything else cannot travel in an Authorization header or a URL as written.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** Why a token cannot be used, or undefined. Never quotes the token. */
export function tokenProblem(envName: string, token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `${envName} must be at least ${MIN_TOKEN_LENGTH} characters`;
  if (!TOKEN_CHARS.test(token)) return `${envName} must be visible ASCII characters, without spaces`;
  return undefined;
}

/**
 * The token every API request must carry, or undefined for none. A token that is set is always
 * required, on loopback too; beyond loopback the dashboard can pause, promote and abort rollouts
 * for anyone on the network, so it refuses to start without one.
 */
export function resolveToken(host: string, envName: string, env: NodeJS.ProcessEnv): string | undefined {
  const token = env[envName] || undefined;
  if (token === undefined) {
    if (isLoopbackHost(host)) return undefined;
    throw new DashboardSettingsError(
      `the dashboard would listen on ${host}, beyond loopback, without a token: set ${envName} (at least ${MIN_TOKEN_LENGTH} characters, e.g. openssl rand -hex 32)`,
    );
  }
  const problem = tokenProblem(envName, token);
  if (problem) throw new DashboardSettingsError(problem);
  return token;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** The cookie holds a value derived from the token, so the token itself never sits in a cookie jar. */
export function sessionValue(token: string): string {
  return digest(`rollout-dashboard-session\0${token}`).toString('hex');
}

/** HttpOnly: page scripts never see it; SameSite=Strict: no other site's page can send it. */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

function cookieValue(cookieHeader: string | undefined, name: string): string {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return '';
}

export interface Credentials {
  authorization?: string;
  cookie?: string;
}

/**
 * How a request proves it knows the token: a bearer header (a script), the session cookie (the
 * page), or not at all. Both are compared, always and in constant time, so the time taken says
 * nothing about which one was tried.
 */
export function authorizedBy(credentials: Credentials, token: string): 'bearer' | 'cookie' | null {
  const bearer = bearerMatches(credentials.authorization, token);
  const cookie = timingSafeEqual(
    digest(cookieValue(credentials.cookie, SESSION_COOKIE)),
    digest(sessionValue(token)),
  );
  return bearer ? 'bearer' : cookie ? 'cookie' : null;
}

/** Whether a `?token=` on a page URL is the token: the one way a browser gets the cookie. */
export function queryTokenMatches(presented: unknown, token: string): boolean {
  if (typeof presented !== 'string') return false;
  return timingSafeEqual(digest(presented), digest(token));
}

/**
 * CSRF check for writes: the Origin a browser sends must be this very server as the Host header
 * names it (the Host itself is checked against the server's own names first). A write without an
 * Origin is refused too: browsers send one on every POST. Only a bearer header, which no other
 * site's page can make a browser send, stands in for it.
 */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined || host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
}
