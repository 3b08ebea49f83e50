import { z } from 'zod';
import { duration } from './duration';

export const analysisSchema = z
  .object({
    // sequential: anytime-valid tests checked at every poll (the default); threshold: the seed's ratios.
    mode: z.enum(['sequential', 'threshold']).default('sequential'),
    // Sequential mode: the chance of rolling back a canary that is as good as stable, ever.
    alpha: z.number().gt(0).max(0.2).default(0.01),
    // off: judge errors only, deliberately (e.g. a metrics source without latency data). Recorded in
    // every verdict. While on, a stage never passes before the latency check has judged it.
    latency: z
      .preprocess((v) => (v === false ? 'off' : v === true ? 'on' : v), z.enum(['on', 'off']))
      .default('on'),
    // How far before a rollout's first window to read the stable version's latency, to choose the
    // latency test's slow bounds before the canary serves anyone.
    latencyBaselineWindow: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default(600_000),
    // Sequential mode: differences too small to matter never roll back. A canary request counts as
    // slow only above max(bound × latencyToleranceRatio, bound + latencyToleranceMs), where a
    // baseline request counts above the bound itself (two hosts are never exactly alike).
    latencyToleranceRatio: z.number().min(1).max(10).default(1.05),
    latencyToleranceMs: z.number().min(0).max(60_000).default(1),
    // Sequential mode: a fixed "slow request" bound for the latency test; by default the baseline's p99.
    latencyThresholdMs: z.number().positive().optional(),
    // The seed's rules: canary error rate above 1.5 × baseline, p99 above 1.2 × baseline.
    maxErrorRateRatio: z.number().min(1).default(1.5),
    // Absolute floor: a 0-error baseline and one canary error must not fail the canary.
    minErrorRateDelta: z.number().min(0).max(1).default(0.01),
    maxP99Ratio: z.number().min(1).default(1.2),
    minP99DeltaMs: z.number().min(0).default(50),
    // Hard limits, applied whenever the metrics source reports them.
    maxCpuPercent: z.number().min(1).max(100).default(90),
    maxMemoryPercent: z.number().min(1).max(100).default(90),
  })
  .strict();

export type AnalysisConfig = z.output<typeof analysisSchema>;

/** Every analysis default, for code that judges without a spec (benchmarks, tests). */
export const DEFAULT_ANALYSIS: AnalysisConfig = analysisSchema.parse({});
