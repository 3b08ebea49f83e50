import type { RolloutCore } from '../spec/rollout-core';
import { waiting } from './activity-stubs';
import { record, touch } from './control';
import type { RolloutState } from './state';

/**
 * Deploys the canary and proves it healthy before it may see a single user request.
 * Returns the reason it failed, or null when the canary may take traffic.
 */
export async function deployAndVerify(spec: RolloutCore, state: RolloutState): Promise<string | null> {
  state.phase = 'deploying';
  touch(state);
  const deployed = await waiting.deployVersion({
    service: spec.service,
    deploy: spec.deploy,
    target: spec.canary,
    environment: state.environments?.idle ?? 'canary',
  });
  record(state, 'deploy', deployed.details, deployed);

  state.phase = 'health-checking';
  touch(state);
  const health = await waiting.checkHealth({ targets: spec.canary.targets, healthCheck: spec.healthCheck });
  const unhealthy = health.targets.filter((t) => !t.healthy);
  record(
    state,
    'health',
    health.healthy
      ? 'all canary targets healthy'
      : `unhealthy: ${unhealthy.map((t) => `${t.target} (${t.lastError})`).join(', ')}`,
    health,
  );
  if (!health.healthy) return `health check failed on ${unhealthy.map((t) => t.target).join(', ')}`;

  if (spec.smokeTests.length === 0) return null;
  state.phase = 'smoke-testing';
  touch(state);
  const smoke = await waiting.runSmokeTests({ targets: spec.canary.targets, tests: spec.smokeTests });
  const failed = smoke.results.filter((r) => !r.passed);
  record(
    state,
    'smoke',
    smoke.passed
      ? `${smoke.results.length} smoke checks passed`
      : `failed: ${failed.map((r) => `${r.name} on ${r.target}: ${r.reason}`).join('; ')}`,
    smoke,
  );
  if (!smoke.passed) return `smoke tests failed: ${failed.map((r) => r.name).join(', ')}`;
  return null;
}
