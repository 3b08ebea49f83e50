import { z } from 'zod';
import { checkLatencyData } from './latency-data';
import { duration } from './duration';
import { resolvedInterval, resolveMonitoring } from './monitoring';
import { serviceName, versionName } from './patterns';
import { sharedSections } from './shared-sections';
import { checkMetricsSource, resolveMetricsConfig } from './metrics-source';
import { checkTargetOverlap } from './target-overlap';
import { targetList } from './target-url';
import { routeList } from './traffic';
import { checkRoutes, routerAdminUrl } from './traffic-routes';

export const ENVIRONMENTS = ['blue', 'green'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

const environmentSchema = z
  .object({
    targets: targetList,
    // What a load balancer other than the embedded router routes to (see traffic-routes.ts).
    routes: routeList.optional(),
  })
  .strict();

export const validationSchema = z
  .object({
    // Share of live traffic sent to the new environment before the switch; 0 skips the slice.
    weight: z.number().int().min(0).max(50).default(0),
    window: duration.default(120_000),
  })
  .strict();

export const postSwitchSchema = z
  .object({
    window: duration.default(300_000),
    // The old environment measured over this long before the switch is the baseline.
    baselineWindow: duration.default(300_000),
    // Absolute limits, judged whatever the baseline says.
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    maxP99Ms: z.number().positive().optional(),
  })
  .strict();

export const blueGreenPromotionSchema = z
  .object({
    // manual: wait (durably, across worker restarts) for the `promote` signal.
    mode: z.enum(['auto', 'manual']).default('auto'),
    delay: duration.default(0),
    // After the post-switch window, the old environment keeps running this long, so switching back
    // stays instant; then it is retired.
    stabilizationDelay: duration.default(30_000),
  })
  .strict();

export const blueGreenSpecSchema = z
  .object({
    strategy: z.literal('blue-green').default('blue-green'),
    service: serviceName,
    version: versionName,
    environments: z.object({ blue: environmentSchema, green: environmentSchema }).strict(),
    validation: validationSchema.default(validationSchema.parse({})),
    postSwitch: postSwitchSchema.default(postSwitchSchema.parse({})),
    ...sharedSections,
    promotion: blueGreenPromotionSchema.default(blueGreenPromotionSchema.parse({})),
  })
  .strict()
  .superRefine(
    (spec, ctx) => {
      const doc = spec as Partial<typeof spec> | undefined;
      checkLatencyData(doc, ctx);
      checkTargetOverlap(
        ctx,
        { path: ['environments', 'blue', 'targets'], targets: doc?.environments?.blue?.targets },
        {
          path: ['environments', 'green', 'targets'],
          targets: doc?.environments?.green?.targets,
          sameAs: 'blue',
        },
        routerAdminUrl(doc?.traffic),
      );
      checkRoutes(ctx, doc?.traffic, [
        { path: ['environments', 'blue'], value: doc?.environments?.blue },
        { path: ['environments', 'green'], value: doc?.environments?.green },
      ]);
      checkMetricsSource(ctx, doc?.traffic, doc?.metrics, doc?.analysis);
      // The validation slice is polled at the resolved interval, like a canary stage.
      const monitoring = doc?.monitoring;
      const validation = doc?.validation;
      if (typeof monitoring?.window !== 'number' || typeof validation?.window !== 'number') return;
      const interval = resolvedInterval(monitoring);
      if (validation.weight > 0 && typeof interval === 'number' && validation.window < interval) {
        ctx.addIssue({
          code: 'custom',
          path: ['validation', 'window'],
          message: `must be at least monitoring.interval (${interval}ms)`,
        });
      }
    },
    { when: () => true },
  )
  .transform((spec) => ({
    ...spec,
    monitoring: resolveMonitoring(spec.monitoring),
    metrics: resolveMetricsConfig(spec.metrics, spec.traffic),
  }));

export type BlueGreenSpecInput = z.input<typeof blueGreenSpecSchema>;
export type BlueGreenSpec = z.output<typeof blueGreenSpecSchema>;
