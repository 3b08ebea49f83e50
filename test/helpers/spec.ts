import type { CanarySpecInput } from '../../src/spec/canary';
import { parseCanarySpec } from '../../src/spec/load';
import type { Stack } from './stack';

/** A canary spec with short windows, pointed at a test stack. */
export function fastCanarySpec(stack: Stack, overrides: Partial<CanarySpecInput> = {}) {
  return parseCanarySpec({
    service: 'checkout',
    stable: { version: 'v1', targets: [stack.v1.url] },
    canary: { version: 'v2', targets: [stack.v2.url] },
    stages: [20, 50, 100],
    monitoring: { window: '3s', interval: '1s', minCanaryRequests: 15, maxWindow: '6s' },
    healthCheck: { retries: 1, interval: '200ms', timeout: '1s' },
    smokeTests: [{ name: 'smoke endpoint', path: '/smoke', expectedStatus: 200 }],
    traffic: { provider: 'embedded', adminUrl: stack.router.adminUrl },
    promotion: { stabilizationDelay: '1s' },
    ...overrides,
  });
}
