import { z } from 'zod';
import { hasControlChars } from './display';
import { MAX_TARGETS, MAX_URL_LENGTH } from './limits';

/**
 * Why a string is not an http(s) URL we can use as written, or undefined. The WHATWG parser
 * silently drops tabs and newlines (`http://127.0.0.1:80\n82` is port 8082), so any whitespace or
 * control character is refused before it gets the chance.
 */
export function httpUrlProblem(value: string): string | undefined {
  if (value.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  if (hasControlChars(value) || /\s/.test(value)) {
    return 'must not contain spaces, tabs, newlines or control characters';
  }
  if (!/^https?:\/\//i.test(value)) return 'must be an http:// or https:// URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

/** Why a URL cannot be a target, or undefined. */
export function targetUrlProblem(value: string): string | undefined {
  const problem = httpUrlProblem(value);
  if (problem) return problem;
  const url = new URL(value);
  // A query, fragment or credentials would be silently merged into every proxied request.
  if (url.search !== '' || value.includes('?') || url.hash !== '' || value.includes('#')) {
    return 'must not contain a query or fragment';
  }
  if (url.username !== '' || url.password !== '' || value.includes('@')) {
    return 'must not contain credentials';
  }
  return undefined;
}

/** One issue per bad value, so a list of targets reports each bad entry at its own index. */
function refinedBy(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  });
}

/** Any http(s) URL: webhooks, admin APIs, metrics servers. */
export const httpUrl = refinedBy(httpUrlProblem);

/** A version's target: what the spec accepts is exactly what the router's PUT /admin/split accepts. */
export const targetUrl = refinedBy(targetUrlProblem);

export const targetList = z
  .array(targetUrl)
  .min(1, 'at least one target URL')
  .max(MAX_TARGETS, `at most ${MAX_TARGETS} targets`);

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };
// Names for this host that a client connecting to them would all reach.
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]']);

/**
 * The address a URL really reaches, for "must never overlap" checks: `http://localhost:80/`,
 * `HTTP://127.0.0.1` and `http://127.0.0.1:80` are one target. Undefined for an unparseable URL
 * (reported elsewhere).
 */
export function targetKey(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const host = LOOPBACK.has(url.hostname) ? 'loopback' : url.hostname;
  const port = url.port || DEFAULT_PORTS[url.protocol] || '';
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${host}:${port}${path}`;
}

/**
 * The host and port a URL really reaches, normalised as in targetKey (`localhost:80` and
 * `127.0.0.1` are one address), for checks where the path makes no difference.
 */
export function targetAddress(value: string): string | undefined {
  return targetKey(value)?.replace(/^[a-z]+:\/\/([^/]*).*$/s, '$1');
}
