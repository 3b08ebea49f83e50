import type { z } from 'zod';
import type { AnalysisConfig } from './analysis';
import type { MetricsConfig } from './providers';

interface Sections {
  analysis?: Partial<AnalysisConfig>;
  metrics?: Partial<MetricsConfig>;
}

/**
 * A spec whose metrics source can never give the latency check data would hold every stage
 * inconclusive forever: refuse it up front, naming the way out (latency data, or latency: off).
 */
export function checkLatencyData(doc: Sections | undefined, ctx: z.RefinementCtx): void {
  const analysis = doc?.analysis;
  const metrics = doc?.metrics;
  if (analysis?.latency === 'off' || metrics?.provider !== 'http' || metrics.fields === undefined) return;
  const fields = metrics.fields;
  if (analysis?.mode === 'threshold') {
    if (fields.p99Ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', 'fields', 'p99Ms'],
        message:
          'threshold mode judges p99 latency: set fields.p99Ms, or analysis.latency: off to judge errors alone',
      });
    }
    return;
  }
  if (fields.slowRequests === undefined && fields.latencyHistogram === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['metrics', 'fields'],
      message:
        'the latency test needs slow-request counts: set fields.slowRequests or fields.latencyHistogram, or analysis.latency: off to judge errors alone (no stage could pass otherwise)',
    });
  }
}
