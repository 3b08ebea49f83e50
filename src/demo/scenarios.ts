import { resolve } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startBlueGreen, startCanary } from '../client/rollouts';
import type { DeployConfig } from '../spec/deploy';
import type { DemoLoadBalancer } from './load-balancer';
import { parseBlueGreenSpec, parseCanarySpec } from '../spec/load';
import type { Outcome, RolloutResult, RolloutState } from '../workflows/state';
import { migrationScenario } from './migration-scenario';

const SERVICE_MAIN = resolve(__dirname, 'service-main.ts');

export interface ScenarioContext {
  client: Client;
  taskQueue: string;
  routerAdminUrl: string;
  /** Where v1 runs, live, when the scenario starts (blue, for blue-green). */
  stableUrl: string;
  /** A free address for the new version (the canary, or green). */
  newUrl: string;
  /** Set when the demo runs through HAProxy or NGINX instead of the embedded router. */
  loadBalancer?: DemoLoadBalancer;
  /** Where users send their requests (the router, or the load balancer). */
  routerUrl: string;
  log: (line: string) => void;
}

/** What a scenario runs beside the stack (a database); its env reaches the worker and its deploys. */
export interface ScenarioResources {
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The traffic and metrics sections, and each address's load-balancer route: the embedded router
 * proxies to the targets themselves, HAProxy and NGINX route to servers blue and green.
 */
function steering(ctx: ScenarioContext) {
  const lb = ctx.loadBalancer;
  if (!lb) {
    return {
      sections: { traffic: { provider: 'embedded' as const, adminUrl: ctx.routerAdminUrl } },
      route: (_name: 'blue' | 'green') => ({}),
    };
  }
  return {
    sections: { traffic: lb.traffic, metrics: lb.metrics },
    route: (name: 'blue' | 'green') => ({ routes: [name] }),
  };
}

export interface Scenario {
  name: string;
  strategy: 'canary' | 'blue-green';
  description: string;
  expected: Outcome;
  /**
   * When users start to be hurt by the new version: its first failed request, or (for a latency
   * regression, where every request it serves is slow) its first request.
   */
  harmFrom?: 'first-error' | 'first-request';
  start(ctx: ScenarioContext): Promise<WorkflowHandle>;
  /** Called on every state change: the demo's chance to break things on purpose. */
  onState?(state: RolloutState, ctx: ScenarioContext): Promise<void>;
  /** Left out of a full run through HAProxy or NGINX (named with --scenario, it refuses to start). */
  embeddedOnly?: boolean;
  /** The path users request; the demo service's /api/checkout by default. */
  trafficPath?: string;
  /** Called before the stack (and its worker) starts. */
  prepare?(log: (line: string) => void): Promise<ScenarioResources>;
  /** Called once the rollout ended: the scenario's own proof; throws when it does not hold. */
  finish?(result: RolloutResult, ctx: ScenarioContext): Promise<void>;
}

/** The worker deploys the new version as a real local process. */
function processDeploy(faults: Record<string, string>): DeployConfig {
  return {
    provider: 'process',
    command: process.execPath,
    args: ['--import', 'tsx', SERVICE_MAIN],
    env: faults,
    readyTimeout: 30_000,
  };
}

const checks = {
  healthCheck: { path: '/healthz', retries: 10, interval: '500ms' },
  smokeTests: [
    { name: 'smoke endpoint answers ok', path: '/smoke', expectedStatus: 200, bodyContains: 'true' },
  ],
};

function canary(
  name: string,
  description: string,
  expected: Outcome,
  faults: Record<string, string>,
  harmFrom: Scenario['harmFrom'] = 'first-error',
): Scenario {
  return {
    name,
    strategy: 'canary',
    description,
    expected,
    harmFrom,
    start: (ctx) => {
      const { sections, route } = steering(ctx);
      return startCanary(
        ctx.client,
        parseCanarySpec(
          {
            service: 'checkout',
            stable: { version: 'v1', targets: [ctx.stableUrl], ...route('blue') },
            canary: { version: 'v2', targets: [ctx.newUrl], ...route('green') },
            stages: [10, 25, 50, 100],
            monitoring: { window: '10s', interval: '1s', minCanaryRequests: 20, maxWindow: '20s' },
            ...checks,
            ...sections,
            deploy: processDeploy(faults),
            promotion: { stabilizationDelay: '5s' },
          },
          `demo scenario ${name}`,
        ),
        ctx.taskQueue,
      );
    },
  };
}

function blueGreen(
  name: string,
  description: string,
  expected: Outcome,
  faults: Record<string, string>,
  onState?: Scenario['onState'],
): Scenario {
  return {
    name,
    strategy: 'blue-green',
    description,
    expected,
    onState,
    start: (ctx) => {
      const { sections, route } = steering(ctx);
      return startBlueGreen(
        ctx.client,
        parseBlueGreenSpec(
          {
            service: 'checkout',
            version: 'v2',
            environments: {
              blue: { targets: [ctx.stableUrl], ...route('blue') },
              green: { targets: [ctx.newUrl], ...route('green') },
            },
            validation: { weight: 5, window: '8s' },
            monitoring: { window: '8s', interval: '1s', minCanaryRequests: 10 },
            postSwitch: { window: '15s', baselineWindow: '30s', maxErrorRate: 0.05 },
            ...checks,
            ...sections,
            deploy: processDeploy(faults),
            promotion: { mode: 'auto', delay: '2s', stabilizationDelay: '5s' },
          },
          `demo scenario ${name}`,
        ),
        ctx.taskQueue,
      );
    },
  };
}

/** The demo's own chaos: make green fail once it carries all traffic. */
function degradeAfterSwitch(): Scenario['onState'] {
  let done = false;
  return async (state, ctx) => {
    if (state.phase !== 'post-switch' || done) return;
    done = true;
    await fetch(new URL('/__faults', ctx.newUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 0.3 }),
    });
  };
}

export const SCENARIOS: readonly Scenario[] = [
  canary('bad', 'canary v2 answers 30% of requests with 500: it must roll back by itself', 'rolled_back', {
    FAULT_ERROR_RATE: '0.3',
  }),
  canary(
    'slow',
    'canary v2 adds 300 ms to every request and returns no errors: latency alone must roll it back',
    'rolled_back',
    { FAULT_LATENCY_MS: '300' },
    'first-request',
  ),
  canary('good', 'canary v2 is healthy: it must be promoted stage by stage', 'promoted', {}),
  blueGreen('bluegreen-smoke', 'green fails its smoke test: no user request may ever reach it', 'failed', {
    FAULT_FAIL_SMOKE: '1',
  }),
  blueGreen(
    'bluegreen-bad',
    'green passes every check, then degrades right after the switch: back to blue at once',
    'rolled_back',
    {},
    degradeAfterSwitch(),
  ),
  blueGreen(
    'bluegreen-good',
    'green is healthy: switched, and blue retired after stabilization',
    'promoted',
    {},
  ),
  migrationScenario(),
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);
