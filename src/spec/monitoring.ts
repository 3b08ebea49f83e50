import { z } from 'zod';
import { duration } from './duration';
import { MAX_DURATION_MS, MIN_INTERVAL_MS } from './limits';

export const monitoringSchema = z
  .object({
    window: duration.default(300_000),
    // Defaults to min(10s, window); see resolveMonitoring.
    interval: duration
      .refine((ms) => ms >= MIN_INTERVAL_MS, `must be at least ${MIN_INTERVAL_MS}ms`)
      .optional(),
    // Too few requests is inconclusive: the window grows up to this, then onInconclusive applies.
    maxWindow: duration.optional(),
    minCanaryRequests: z.number().int().min(1).max(1_000_000_000).default(100),
    onInconclusive: z.enum(['pause', 'rollback']).default('pause'),
  })
  .strict()
  .superRefine((monitoring, ctx) => {
    // The limits are checked on the resolved values, so a derived interval or maxWindow passes
    // exactly the rules an explicit one does (window: 0s once gave a 0 ms poll loop). A derived
    // value's problem is reported at the field it came from.
    const resolved = resolveMonitoring(monitoring);
    const at = (field: 'interval' | 'maxWindow') => (monitoring[field] === undefined ? 'window' : field);
    const derived = (field: 'interval' | 'maxWindow') =>
      monitoring[field] === undefined ? ` (the derived monitoring.${field} is ${resolved[field]}ms)` : '';
    // An explicit interval is checked on its own field (above), so it is reported beside other errors.
    if (monitoring.interval === undefined && resolved.interval < MIN_INTERVAL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: [at('interval')],
        message: `monitoring.interval must be at least ${MIN_INTERVAL_MS}ms${derived('interval')}`,
      });
    }
    if (monitoring.interval !== undefined && monitoring.interval > monitoring.window) {
      ctx.addIssue({ code: 'custom', path: ['interval'], message: 'must not exceed monitoring.window' });
    }
    if (monitoring.maxWindow !== undefined && monitoring.maxWindow < monitoring.window) {
      ctx.addIssue({ code: 'custom', path: ['maxWindow'], message: 'must be at least monitoring.window' });
    }
    if (resolved.maxWindow > MAX_DURATION_MS) {
      ctx.addIssue({
        code: 'custom',
        path: [at('maxWindow')],
        message: `monitoring.maxWindow must be at most ${MAX_DURATION_MS / 86_400_000}d${derived('maxWindow')}`,
      });
    }
  });

export type MonitoringInput = z.output<typeof monitoringSchema>;

/** The poll interval a monitoring section resolves to; also what cross-field checks compare with. */
export function resolvedInterval(monitoring: Pick<MonitoringInput, 'window' | 'interval'>): number {
  // min(10s, window): bench:analysis shows 10s polls halve the blast radius of 30s ones at no cost
  // in false rollbacks, since the sequential tests stay valid however often they look.
  return monitoring.interval ?? Math.min(10_000, monitoring.window);
}

/** Fills the defaults that depend on other fields. */
export function resolveMonitoring(monitoring: MonitoringInput) {
  return {
    ...monitoring,
    interval: resolvedInterval(monitoring),
    maxWindow: monitoring.maxWindow ?? monitoring.window * 3,
  };
}
