import type { AnalysisConfig } from '../spec/analysis';
import type { CheckEvidence, VersionMetrics } from './types';

/** CPU and memory ceilings: hard limits in every mode, judged whatever the sample size. */
export function resourceChecks(canary: VersionMetrics, config: AnalysisConfig): CheckEvidence[] {
  const checks: CheckEvidence[] = [];
  const add = (name: string, value: number | null | undefined, limit: number): void => {
    if (value === null || value === undefined) return;
    checks.push({
      name,
      canary: value,
      baseline: null,
      limit,
      passed: value <= limit,
      note: 'hard limit',
      hard: true,
    });
  };
  add('cpu', canary.cpuPercent, config.maxCpuPercent);
  add('memory', canary.memoryPercent, config.maxMemoryPercent);
  return checks;
}
