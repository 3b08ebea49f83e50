/**
 * A deliberately tiny path language for reading one value out of a JSON document:
 * `$.data.requests`, `data.items[0].count`, `$[2].p99`. Dot keys and [index] only: no filters,
 * wildcards or expressions, and only an object's own properties are visible (`__proto__`,
 * `constructor` and friends resolve to nothing).
 */
export type JsonPathSegment = { key: string } | { index: number };

const KEY = /^[A-Za-z0-9_-]+/;
const INDEX = /^\[(\d{1,9})\]/;

/** Parses a path; throws an Error describing the first bad character. */
export function parseJsonPath(path: string): JsonPathSegment[] {
  const segments: JsonPathSegment[] = [];
  let rest = path;
  if (rest.startsWith('$')) {
    rest = rest.slice(1);
  } else {
    // A path without "$" starts with a bare key: `data.items[0]`.
    const key = KEY.exec(rest);
    if (!key) throw new Error(`${JSON.stringify(path)}: must start with "$" or a key`);
    segments.push({ key: key[0] });
    rest = rest.slice(key[0].length);
  }
  while (rest.length > 0) {
    const at = path.length - rest.length;
    if (rest.startsWith('.')) {
      const key = KEY.exec(rest.slice(1));
      if (!key) throw new Error(`${JSON.stringify(path)}: expected a key after "." at position ${at}`);
      segments.push({ key: key[0] });
      rest = rest.slice(1 + key[0].length);
      continue;
    }
    const index = INDEX.exec(rest);
    if (index) {
      segments.push({ index: Number(index[1]) });
      rest = rest.slice(index[0].length);
      continue;
    }
    throw new Error(`${JSON.stringify(path)}: unexpected ${JSON.stringify(rest[0])} at position ${at}`);
  }
  return segments;
}

/** The value at the path, or undefined when any step is missing. */
export function evaluateJsonPath(document: unknown, path: string | JsonPathSegment[]): unknown {
  const segments = typeof path === 'string' ? parseJsonPath(path) : path;
  let current: unknown = document;
  for (const segment of segments) {
    if ('index' in segment) {
      if (!Array.isArray(current) || segment.index >= current.length) return undefined;
      current = current[segment.index];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
      if (!Object.hasOwn(current, segment.key)) return undefined;
      current = (current as Record<string, unknown>)[segment.key];
    }
  }
  return current;
}

/** An error message for a bad path, or undefined when it parses. */
export function jsonPathProblem(path: string): string | undefined {
  try {
    parseJsonPath(path);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
