/** The dashboard's own JSON API; the session cookie goes along by itself (same origin). */
/* global fetch */

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new HttpError(response.status, body.error || `HTTP ${response.status}`);
  return body;
}

export async function getJson(path) {
  return answer(await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' }));
}

export async function postJson(path, body) {
  return answer(
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/** What to tell the reader when the API refused or failed. */
export function problemText(err) {
  if (err instanceof HttpError && err.status === 401)
    return 'Not signed in: open this page once with ?token=<the dashboard token> in its URL.';
  return err instanceof Error ? err.message : String(err);
}
