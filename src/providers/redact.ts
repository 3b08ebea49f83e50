/**
 * Redaction helpers. Provider errors and command output reach workflow history and the state
 * query, which are stored in plaintext; anything taken from a worker secret must be cut out first.
 */

/** What replaces a secret in a message. */
export const REDACTED = '[redacted]';

/** Shorter fragments are not scrubbed: they would mangle ordinary words and numbers in messages. */
const MIN_FRAGMENT = 4;

/**
 * An endpoint described by its origin only (scheme, host, port): the path, query and userinfo of a
 * URL taken from a secret (a Slack webhook, a token in the query) are the secret.
 */
export function originOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin !== 'null' ? parsed.origin : `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A URL for messages about a non-secret endpoint (one written in the spec): origin and path, but
 * neither userinfo nor query, which commonly carry credentials.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    return `${originOf(url)}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * The forms in which a secret value may show up in a message: as it is, JSON- and URL-escaped, and
 * for a URL its userinfo, path and query on their own (an error may quote only the path).
 */
export function secretForms(value: string): string[] {
  const forms = new Set<string>([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  try {
    const url = new URL(value);
    const tail = `${url.pathname}${url.search}${url.hash}`;
    forms.add(url.href);
    if (tail !== '/') forms.add(tail);
    if (url.pathname !== '/') forms.add(url.pathname);
    forms.add(url.search);
    forms.add(url.username);
    forms.add(url.password);
    forms.add(decodeURIComponent(url.username));
    forms.add(decodeURIComponent(url.password));
  } catch {
    // Not a URL (or a malformed escape): the value itself is enough.
  }
  return [...forms].filter((form) => form.length >= MIN_FRAGMENT);
}

/** The values of the named environment variables, in every form secretForms knows. */
export function secretsFromEnv(names: Iterable<string>, env: NodeJS.ProcessEnv = process.env): string[] {
  const secrets: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value) secrets.push(...secretForms(value));
  }
  return secrets;
}

/** Replaces every occurrence of every secret; the longest first, so that no part of one survives. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0) result = result.split(secret).join(REDACTED);
  }
  return result;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Reduces every URL quoted in a text to its origin: library errors sometimes quote whole URLs. */
export function urlsToOrigins(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => originOf(url));
}
