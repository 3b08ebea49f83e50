import { z } from 'zod';
// The spec validates its versions and targets with these same schemas, so a spec that passes is
// never refused here.
import { versionName } from '../spec/patterns';
import { targetList } from '../spec/target-url';
import { headerMatchSchema } from '../spec/traffic';

const routeSchema = z.object({
  version: versionName,
  targets: targetList,
});

export const splitUpdateSchema = z
  .object({
    stable: routeSchema,
    canary: routeSchema.nullable().optional(),
    canaryWeight: z.number().int().min(0).max(100),
    // Testers carrying every one of these headers go to the canary, whatever the weight.
    match: headerMatchSchema.nullable().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.canaryWeight > 0 && (value.canary === null || value.canary === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['canary'], message: 'required when canaryWeight > 0' });
    }
    if (value.match && !value.canary) {
      ctx.addIssue({ code: 'custom', path: ['match'], message: 'a header route needs a canary' });
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
