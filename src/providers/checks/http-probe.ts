import { describeFetchError } from '../http-json';

/** A check path that would leave the target's path prefix (the spec refuses these; kept as defence). */
export const PATH_ESCAPES = "the path would leave the target's path prefix: not probed";

export interface ProbeResult {
  status: number | null;
  body: string;
  error: string | null;
  durationMs: number;
}

export interface ProbeRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/** One HTTP request that never throws: failures come back as data, to be kept as evidence. */
export async function probe({
  url,
  method = 'GET',
  headers,
  body,
  timeoutMs,
}: ProbeRequest): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return {
      status: response.status,
      body: text.slice(0, 2000),
      error: null,
      durationMs: performance.now() - started,
    };
  } catch (err) {
    return {
      status: null,
      body: '',
      error: describeFetchError(err),
      durationMs: performance.now() - started,
    };
  }
}
