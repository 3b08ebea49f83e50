import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const USER_HEADER = 'x-user-id';
export const USER_COOKIE = 'rollout-user';

/** Cookie values we issue or accept; anything else is treated as absent to keep Set-Cookie well-formed. */
const COOKIE_VALUE = /^[A-Za-z0-9._-]{1,128}$/;
const COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600;

export interface CohortKey {
  key: string;
  /** Set when the key was freshly generated and must be pinned on the client. */
  setCookie: string | null;
}

export function resolveCohortKey(headers: IncomingHttpHeaders): CohortKey {
  const fromHeader = headers[USER_HEADER];
  const headerValue = Array.isArray(fromHeader) ? fromHeader[0] : fromHeader;
  if (headerValue !== undefined && headerValue.trim() !== '') {
    return { key: headerValue.trim(), setCookie: null };
  }
  const fromCookie = readCookie(headers.cookie, USER_COOKIE);
  if (fromCookie !== null && COOKIE_VALUE.test(fromCookie)) {
    return { key: fromCookie, setCookie: null };
  }
  const generated = randomUUID();
  return {
    key: generated,
    setCookie: `${USER_COOKIE}=${generated}; Path=/; Max-Age=${COOKIE_MAX_AGE_SECONDS}; SameSite=Lax; HttpOnly`,
  };
}

export function readCookie(cookieHeader: string | undefined, name: string): string | null {
  if (cookieHeader === undefined) return null;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    const unquoted = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
    return unquoted === '' ? null : unquoted;
  }
  return null;
}
