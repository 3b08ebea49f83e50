import { resolve } from 'node:path';
import type { CanarySpecInput } from '../spec/canary';

export type ScenarioName = 'bad' | 'good';
export const SCENARIOS: readonly ScenarioName[] = ['bad', 'good'];

export interface ScenarioPorts {
  stableUrl: string;
  canaryUrl: string;
  routerAdminUrl: string;
}

const SERVICE_MAIN = resolve(__dirname, 'service-main.ts');

export const SCENARIO_TEXT: Record<ScenarioName, string> = {
  bad: 'v2 answers 30% of requests with 500: it must roll back by itself',
  good: 'v2 is healthy: it must be promoted stage by stage',
};

/** The demo's spec: real processes deployed by the worker, short windows so it fits in minutes. */
export function scenarioSpec(name: ScenarioName, ports: ScenarioPorts): CanarySpecInput {
  return {
    service: 'checkout',
    stable: { version: 'v1', targets: [ports.stableUrl] },
    canary: { version: 'v2', targets: [ports.canaryUrl] },
    stages: [10, 25, 50, 100],
    monitoring: { window: '10s', interval: '1s', minCanaryRequests: 20, maxWindow: '20s' },
    healthCheck: { path: '/healthz', retries: 10, interval: '500ms' },
    smokeTests: [
      { name: 'smoke endpoint answers ok', path: '/smoke', expectedStatus: 200, bodyContains: 'true' },
    ],
    traffic: { provider: 'embedded', adminUrl: ports.routerAdminUrl },
    deploy: {
      provider: 'process',
      command: process.execPath,
      args: ['--import', 'tsx', SERVICE_MAIN],
      env: name === 'bad' ? { FAULT_ERROR_RATE: '0.3' } : {},
      readyTimeout: '30s',
    },
    promotion: { stabilizationDelay: '5s' },
  };
}
