import { ConfigurationError, TransientError } from './errors';

export interface JsonRequest {
  method?: 'GET' | 'PUT' | 'POST';
  body?: unknown;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** Calls a JSON API and classifies failures: 4xx is a configuration error, the rest is transient. */
export async function requestJson<T>(
  url: string,
  { method = 'GET', body, timeoutMs = 5000, headers = {} }: JsonRequest = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new TransientError(`${method} ${url} failed: ${describeFetchError(err)}`);
  }
  const text = await response.text();
  if (response.status >= 400 && response.status < 500) {
    throw new ConfigurationError(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  }
  if (!response.ok)
    throw new TransientError(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TransientError(`${method} ${url} answered non-JSON: ${text.slice(0, 200)}`);
  }
}

export function describeFetchError(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError') return 'timed out';
  return error.cause?.code ?? error.cause?.message ?? error.message;
}
