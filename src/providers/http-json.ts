import { ConfigurationError, TransientError } from './errors';
import { redact, urlsToOrigins, withoutCredentials } from './redact';

export interface JsonRequest {
  method?: 'GET' | 'PUT' | 'POST';
  body?: unknown;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /**
   * How messages name the endpoint. Defaults to origin and path (no userinfo, no query); a URL
   * taken from a secret must pass its origin only.
   */
  endpoint?: string;
  /** Values (tokens, secret URLs) cut out of every message, including quoted answer bodies. */
  secrets?: readonly string[];
}

/** Calls a JSON API and classifies failures: 4xx is a configuration error, the rest is transient. */
export async function requestJson<T>(
  url: string,
  { method = 'GET', body, timeoutMs = 5000, headers = {}, endpoint, secrets = [] }: JsonRequest = {},
): Promise<T> {
  const where = `${method} ${endpoint ?? withoutCredentials(url)}`;
  // An answer may echo the request (its URL, its Authorization header): scrub it too.
  const quote = (text: string, max: number): string => redact(text, secrets).slice(0, max);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new TransientError(`${where} failed: ${redact(describeFetchError(err), secrets)}`);
  }
  const text = await response.text();
  if (response.status >= 400 && response.status < 500) {
    throw new ConfigurationError(`${where} answered ${response.status}: ${quote(text, 500)}`);
  }
  if (!response.ok) throw new TransientError(`${where} answered ${response.status}: ${quote(text, 500)}`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TransientError(`${where} answered non-JSON: ${quote(text, 200)}`);
  }
}

/**
 * Why a fetch failed, for messages: the system error code when there is one. A library message is
 * a last resort, with any URL in it cut to its origin (fetch quotes whole URLs, secret paths too).
 */
export function describeFetchError(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError') return 'timed out';
  return urlsToOrigins(error.cause?.code ?? error.cause?.message ?? error.message).slice(0, 300);
}
