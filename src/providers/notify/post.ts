import { ConfigurationError } from '../errors';
import { requestText, statusError } from '../http-json';
import { originOf, secretForms } from '../redact';

/** Well inside the notify activity's start-to-close: a slow receiver costs one short attempt, not the retry budget. */
export const NOTIFY_TIMEOUT_MS = 5000;

/**
 * Posts a JSON body to the URL held in a worker variable; false when the variable is unset. The
 * URL's path is the secret (Slack, Teams), so messages name the endpoint by origin and the
 * variable's name, and never quote the value. The answer is read as text: Slack answers `ok`, many
 * receivers answer nothing, and only the status matters.
 */
export async function postToUrlFromEnv(urlEnv: string, body: unknown, what: string): Promise<boolean> {
  const url = process.env[urlEnv];
  if (!url) return false;
  const origin = originOf(url);
  if (!/^https?:\/\//.test(origin)) {
    throw new ConfigurationError(`notify: ${urlEnv} on the worker does not hold an http(s) URL`);
  }
  const answer = await requestText(url, {
    method: 'POST',
    body,
    timeoutMs: NOTIFY_TIMEOUT_MS,
    endpoint: `${what} ${origin} (URL from ${urlEnv})`,
    secrets: secretForms(url),
  });
  if (!answer.ok) {
    throw statusError(
      answer.status,
      `${answer.where} answered ${answer.status}: ${answer.quote(answer.text, 300)}`,
    );
  }
  return true;
}
