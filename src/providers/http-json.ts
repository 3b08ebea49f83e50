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

/**
 * Whether an HTTP status says the request itself is wrong, so a retry would get the same answer:
 * 4xx, except 408 (the server gave up waiting for us) and 429 (slow down), which pass with time
 * like 5xx do.
 */
export function isPermanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** The error for an answer that is not 2xx: a configuration error only when retrying cannot help. */
export function statusError(status: number, message: string): ConfigurationError | TransientError {
  return isPermanentStatus(status) ? new ConfigurationError(message) : new TransientError(message);
}

/** An answer read to its end. */
export interface HttpAnswer {
  status: number;
  ok: boolean;
  text: string;
  /** How messages name the request: method and endpoint. */
  where: string;
  /** Cuts answer text for a message, with the request's secrets taken out. */
  quote(text: string, max: number): string;
}

/**
 * Sends one request and reads the whole answer, whatever its status: a caller that must read an
 * error body first (Prometheus explains its errors in JSON) classifies the status with
 * statusError. Getting no answer at all (refused, reset, timed out) is transient.
 */
export async function requestText(
  url: string,
  { method = 'GET', body, timeoutMs = 5000, headers = {}, endpoint, secrets = [] }: JsonRequest = {},
): Promise<HttpAnswer> {
  const where = `${method} ${endpoint ?? withoutCredentials(url)}`;
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
  return {
    status: response.status,
    ok: response.ok,
    text: await response.text(),
    where,
    // An answer may echo the request (its URL, its Authorization header): scrub it too.
    quote: (text, max) => redact(text, secrets).slice(0, max),
  };
}

/** Calls a JSON API and classifies failures by status (statusError); a non-JSON answer is transient. */
export async function requestJson<T>(url: string, request: JsonRequest = {}): Promise<T> {
  const { status, ok, text, where, quote } = await requestText(url, request);
  if (!ok) throw statusError(status, `${where} answered ${status}: ${quote(text, 500)}`);
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
