import { z } from 'zod';
import { duration } from './duration';

export const monitoringSchema = z
  .object({
    window: duration.default(300_000),
    // Defaults to min(10s, window); see resolveMonitoring.
    interval: duration.refine((ms) => ms >= 100, 'must be at least 100ms').optional(),
    // Too few requests is inconclusive: the window grows up to this, then onInconclusive applies.
    maxWindow: duration.optional(),
    minCanaryRequests: z.number().int().min(1).default(100),
    onInconclusive: z.enum(['pause', 'rollback']).default('pause'),
  })
  .strict()
  .superRefine(({ interval, window, maxWindow }, ctx) => {
    if (interval !== undefined && interval > window) {
      ctx.addIssue({ code: 'custom', path: ['interval'], message: 'must not exceed monitoring.window' });
    }
    if (maxWindow !== undefined && maxWindow < window) {
      ctx.addIssue({ code: 'custom', path: ['maxWindow'], message: 'must be at least monitoring.window' });
    }
  });

export type MonitoringInput = z.output<typeof monitoringSchema>;

/** Fills the defaults that depend on other fields. */
export function resolveMonitoring(monitoring: MonitoringInput) {
  return {
    ...monitoring,
    // min(10s, window): bench:analysis shows 10s polls halve the blast radius of 30s ones at no cost
    // in false rollbacks, since the sequential tests stay valid however often they look.
    interval: monitoring.interval ?? Math.min(10_000, monitoring.window),
    maxWindow: monitoring.maxWindow ?? monitoring.window * 3,
  };
}
