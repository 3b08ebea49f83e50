import { z } from 'zod';
import { checkLatencyData } from './latency-data';
import { duration } from './duration';
import { resolveMonitoring } from './monitoring';
import { httpUrl, serviceName, versionName } from './patterns';
import { sharedSections } from './shared-sections';
import { resolveMetricsConfig } from './providers';

export const ENVIRONMENTS = ['blue', 'green'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

const environmentSchema = z.object({ targets: z.array(httpUrl).min(1, 'at least one target URL') }).strict();

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
      const blue = doc?.environments?.blue?.targets ?? [];
      const green = new Set(doc?.environments?.green?.targets ?? []);
      if (blue.some((t) => green.has(t))) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', 'green', 'targets'],
          message: 'blue and green must not share a target',
        });
      }
    },
    { when: () => true },
  )
  .transform((spec) => ({
    ...spec,
    monitoring: resolveMonitoring(spec.monitoring),
    metrics: resolveMetricsConfig(spec.metrics, spec.traffic.adminUrl),
  }));

export type BlueGreenSpecInput = z.input<typeof blueGreenSpecSchema>;
export type BlueGreenSpec = z.output<typeof blueGreenSpecSchema>;
