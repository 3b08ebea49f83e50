import type { z } from 'zod';
import { targetKey } from './target-url';

interface TargetGroup {
  /** Where the group's targets are in the spec, e.g. ['canary', 'targets']. */
  path: (string | number)[];
  targets: unknown;
}

const originOf = (key: string) => /^[a-z]+:\/\/[^/]*/.exec(key)?.[0];

function keys(targets: unknown): (string | undefined)[] {
  return Array.isArray(targets) ? targets.map((t) => (typeof t === 'string' ? targetKey(t) : undefined)) : [];
}

/**
 * Targets that must never be the same address. `second`'s targets may not be any of `first`'s (a
 * canary on stable's own process, or blue and green sharing one, would judge a version against
 * itself), and no target may be the router's admin API (a proxied PUT /admin/split through it would
 * change the live split). Addresses are compared normalised: a trailing "/", a default port and
 * localhost vs 127.0.0.1 make no difference.
 */
export function checkTargetOverlap(
  ctx: z.RefinementCtx,
  first: TargetGroup,
  second: TargetGroup & { sameAs: string },
  adminUrl: unknown,
): void {
  const firstKeys = new Set(keys(first.targets).filter((k) => k !== undefined));
  keys(second.targets).forEach((key, i) => {
    if (key !== undefined && firstKeys.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [...second.path, i],
        message: `must not be one of ${second.sameAs}'s targets`,
      });
    }
  });
  const adminOrigin = typeof adminUrl === 'string' ? originOf(targetKey(adminUrl) ?? '') : undefined;
  if (adminOrigin === undefined) return;
  for (const group of [first, second]) {
    keys(group.targets).forEach((key, i) => {
      if (key !== undefined && originOf(key) === adminOrigin) {
        ctx.addIssue({
          code: 'custom',
          path: [...group.path, i],
          message: "must not be the router's admin address (traffic.adminUrl)",
        });
      }
    });
  }
}
