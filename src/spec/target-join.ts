/**
 * A target plus a path, the way the router forwards: the path is appended to the target's own path
 * prefix (`http://app:8080/v2` + `/healthz` → `/v2/healthz`). The health and smoke checks use the
 * same join, so a check probes exactly what users reach through the router.
 */

/**
 * The upstream URL for a checked path, or null if it would not stay under the target's prefix.
 * A second line of defence: checkRequestPath should already have refused anything that escapes.
 */
export function joinTarget(target: string, requestTarget: string): string | null {
  const { origin, prefix } = parsedTarget(target);
  const joined = (target.endsWith('/') ? target.slice(0, -1) : target) + requestTarget;
  let url: URL;
  try {
    url = new URL(joined);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  if (prefix !== '' && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return null;
  // The parsed form, so what was checked is exactly what the forwarding client will send.
  return url.href;
}

interface ParsedTarget {
  origin: string;
  /** The target's path without a trailing slash; '' for none. */
  prefix: string;
}

// Targets change only with the split, and a split holds at most a few hundred; parse each once.
const MAX_CACHED_TARGETS = 1024;
const parsedTargets = new Map<string, ParsedTarget>();

function parsedTarget(target: string): ParsedTarget {
  let parsed = parsedTargets.get(target);
  if (parsed === undefined) {
    const url = new URL(target);
    parsed = { origin: url.origin, prefix: url.pathname.replace(/\/$/, '') };
    if (parsedTargets.size >= MAX_CACHED_TARGETS) parsedTargets.clear();
    parsedTargets.set(target, parsed);
  }
  return parsed;
}
