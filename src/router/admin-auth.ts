import { createHash, timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from './loopback';

/** The env var holding the admin API's bearer token, on the router and on the worker alike. */
export const ADMIN_TOKEN_ENV = 'ROUTER_ADMIN_TOKEN';

/** Long enough not to be guessed over the network; `openssl rand -hex 32` gives 64. */
const MIN_TOKEN_LENGTH = 16;
// Visible ASCII only: anything else cannot travel in an Authorization header as written.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** Why a token cannot be used, or undefined. Never quotes the token. */
export function adminTokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH)
    return `${ADMIN_TOKEN_ENV} must be at least ${MIN_TOKEN_LENGTH} characters`;
  if (!TOKEN_CHARS.test(token)) return `${ADMIN_TOKEN_ENV} must be visible ASCII characters, without spaces`;
  return undefined;
}

/**
 * Refuses an admin API that would be reachable from other machines without a token: it can
 * redirect all traffic and wipe the counters the analysis reads.
 */
export function checkAdminExposure(adminHost: string, token: string | undefined): void {
  if (token === undefined && !isLoopbackHost(adminHost)) {
    throw new Error(
      `the admin API would listen on ${adminHost}, beyond loopback, without a token: set ${ADMIN_TOKEN_ENV}`,
    );
  }
  if (token !== undefined) {
    const problem = adminTokenProblem(token);
    if (problem) throw new Error(problem);
  }
}

// Hashing first gives both sides the same length, which timingSafeEqual needs, and so the
// comparison time says nothing about the token's length either.
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Whether an Authorization header carries the token, compared in constant time. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1] ?? '';
  // Compared even when absent, so a missing header costs the same as a wrong one.
  return timingSafeEqual(digest(presented), digest(token));
}
