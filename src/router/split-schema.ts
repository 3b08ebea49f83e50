import { z } from 'zod';

export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const MAX_TARGETS = 64;

const targetUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must use http or https' });
  }
  // A query, fragment or credentials would be silently merged into every proxied request.
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials, query or fragment' });
  }
});

const routeSchema = z.object({
  version: z.string().regex(VERSION_PATTERN, 'must match ' + VERSION_PATTERN.source),
  targets: z.array(targetUrl).min(1, 'needs at least one target').max(MAX_TARGETS),
});

export const splitUpdateSchema = z
  .object({
    stable: routeSchema,
    canary: routeSchema.nullable().optional(),
    canaryWeight: z.number().int().min(0).max(100),
  })
  .superRefine((value, ctx) => {
    if (value.canaryWeight > 0 && (value.canary === null || value.canary === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['canary'], message: 'required when canaryWeight > 0' });
    }
    if (value.canary && value.canary.version === value.stable.version) {
      ctx.addIssue({
        code: 'custom',
        path: ['canary', 'version'],
        message: 'must differ from stable.version',
      });
    }
  });

export type RouteSpec = z.infer<typeof routeSchema>;
export type SplitUpdate = z.infer<typeof splitUpdateSchema>;
