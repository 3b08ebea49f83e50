import { z } from 'zod';
import { checkLatencyData } from './latency-data';
import { duration } from './duration';
import { checkMetricsSource, resolveMetricsConfig } from './metrics-source';
import { resolvedInterval, resolveMonitoring } from './monitoring';
import { serviceName, versionName } from './patterns';
import { sharedSections } from './shared-sections';
import { checkTargetOverlap } from './target-overlap';
import { targetList } from './target-url';
import { headerMatchSchema, routeList } from './traffic';
import { checkHeaderMatch, checkRoutes, routerAdminUrl } from './traffic-routes';

export const DEFAULT_STAGES = [1, 5, 10, 25, 50, 100] as const;

export const versionTargetSchema = z
  .object({
    version: versionName,
    // What the checks probe, and what the embedded router proxies to.
    targets: targetList,
    // What any other load balancer routes to, by its own names (see traffic-routes.ts).
    routes: routeList.optional(),
  })
  .strict();

const canaryTargetSchema = versionTargetSchema
  .extend({
    // Testers carrying these headers reach the canary for the whole rollout, whatever the weight.
    match: headerMatchSchema.optional(),
  })
  .strict();

const weight = z.number().int().min(1).max(100);
// A bare number is shorthand for { weight }; normalising first keeps error paths precise (stages[0].window).
const stageSchema = z.preprocess(
  (value) => (typeof value === 'number' ? { weight: value } : value),
  z.object({ weight, window: duration.optional() }).strict(),
);

const stagesSchema = z
  .array(stageSchema)
  .min(1)
  .superRefine((stages, ctx) => {
    stages.forEach((stage, i) => {
      const previous = stages[i - 1];
      if (previous && stage.weight <= previous.weight) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `weights must rise strictly (${previous.weight} then ${stage.weight})`,
        });
      }
    });
    const last = stages[stages.length - 1];
    // An out-of-range weight is reported on its own path; do not report it twice.
    if (last && last.weight < 100) {
      ctx.addIssue({ code: 'custom', path: [stages.length - 1], message: 'the last stage must be 100' });
    }
  });

export const promotionSchema = z
  .object({
    // The old version keeps running this long after promotion, so that switching back stays instant.
    stabilizationDelay: duration.default(30_000),
  })
  .strict();

export const canarySpecSchema = z
  .object({
    strategy: z.literal('canary').default('canary'),
    service: serviceName,
    stable: versionTargetSchema,
    canary: canaryTargetSchema,
    stages: stagesSchema.default(DEFAULT_STAGES.map((w) => ({ weight: w }))),
    ...sharedSections,
    promotion: promotionSchema.default(promotionSchema.parse({})),
  })
  .strict()
  .superRefine(
    (spec, ctx) => {
      // Runs even when other fields failed (see `when`), so every bad field is reported at once.
      const doc = spec as Partial<typeof spec> | undefined;
      const stableVersion = doc?.stable?.version;
      if (stableVersion !== undefined && stableVersion === doc?.canary?.version) {
        ctx.addIssue({
          code: 'custom',
          path: ['canary', 'version'],
          message: 'must differ from stable.version',
        });
      }
      checkLatencyData(doc, ctx);
      checkTargetOverlap(
        ctx,
        { path: ['stable', 'targets'], targets: doc?.stable?.targets },
        { path: ['canary', 'targets'], targets: doc?.canary?.targets, sameAs: 'stable' },
        routerAdminUrl(doc?.traffic),
      );
      checkRoutes(ctx, doc?.traffic, [
        { path: ['stable'], value: doc?.stable },
        { path: ['canary'], value: doc?.canary },
      ]);
      checkHeaderMatch(ctx, doc?.traffic, doc?.canary?.match);
      checkMetricsSource(ctx, doc?.traffic, doc?.metrics, doc?.analysis);
      // Compared with the interval the rollout will really use, written out or defaulted.
      const monitoring = doc?.monitoring;
      if (typeof monitoring?.window !== 'number' || !Array.isArray(doc?.stages)) return;
      const interval = resolvedInterval(monitoring);
      if (typeof interval !== 'number') return;
      doc.stages.forEach((stage, i) => {
        if (typeof stage?.window === 'number' && stage.window < interval) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', i, 'window'],
            message: `must be at least monitoring.interval (${interval}ms)`,
          });
        }
      });
    },
    { when: () => true },
  )
  .transform((spec) => ({
    ...spec,
    stages: spec.stages.map((s) => ({ weight: s.weight, windowMs: s.window ?? spec.monitoring.window })),
    monitoring: resolveMonitoring(spec.monitoring),
    metrics: resolveMetricsConfig(spec.metrics, spec.traffic),
  }));

export type CanarySpecInput = z.input<typeof canarySpecSchema>;
export type CanarySpec = z.output<typeof canarySpecSchema>;
export type VersionTarget = z.output<typeof versionTargetSchema>;
export type Stage = CanarySpec['stages'][number];
