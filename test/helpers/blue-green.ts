import { after, before, beforeEach } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { readState, startBlueGreen } from '../../src/client/rollouts';
import { DEFAULT_FAULTS } from '../../src/demo/faults';
import type { AdminStats } from '../../src/router/admin-api';
import type { SplitView } from '../../src/router/split';
import type { RouteSpec } from '../../src/router/split-schema';
import type { BlueGreenSpec, BlueGreenSpecInput } from '../../src/spec/blue-green';
import { parseBlueGreenSpec } from '../../src/spec/load';
import type { Decision, DecisionKind, Phase, RolloutResult, RolloutState } from '../../src/workflows/state';
import { eventually } from './eventually';
import { sleep } from './fault-env';
import { InvariantWatch } from './invariants';
import { Stack } from './stack';
import { createTemporalEnv } from './temporal';
import { createWorker, uniqueTaskQueue } from './worker';

/*
 * Blue-green on the shared test Stack: blue is stack.v1 (serves v1), green is stack.v2 (serves v2).
 * The router labels traffic by the split's version, not by the process, so a later rollout may put
 * "v3" on blue's process.
 */

export const blueRoute = (stack: Stack, version = 'v1'): RouteSpec => ({ version, targets: [stack.v1.url] });
export const greenRoute = (stack: Stack, version = 'v2'): RouteSpec => ({ version, targets: [stack.v2.url] });

export function routerSplit(stack: Stack): Promise<SplitView> {
  return stack.split();
}

/** True when `route`'s version and targets carry all traffic. */
export function carriesAll(split: SplitView, route: RouteSpec): boolean {
  const live = split.stable;
  return (
    live?.version === route.version &&
    JSON.stringify([...live.targets].sort()) === JSON.stringify([...route.targets].sort()) &&
    split.weights.stable === 100
  );
}

/**
 * A fresh start for the next test: blue live with v1 at 100%, no faults on either environment, and
 * the router's counters and split history at zero. Requests routed before the reset are given time
 * to finish first, so that they are not counted after it.
 */
export async function resetToBlue(stack: Stack): Promise<void> {
  await stack.resetToV1();
  stack.v1.setFaults({ ...DEFAULT_FAULTS });
  await sleep(300);
  const res = await fetch(`${stack.router.adminUrl}/admin/reset-stats`, {
    method: 'POST',
    // The admin API refuses writes that are not JSON; an empty JSON body is fine.
    headers: { 'content-type': 'application/json' },
  });
  if (!res.ok) throw new Error(`POST /admin/reset-stats: ${res.status}`);
}

/**
 * For a describe block: one dev server and one stack (router, blue, green, 60 rps of users) for all
 * its tests, reset to blue v1 at 100% with no faults and zeroed router counters before each test.
 * The fields are set once `before` has run.
 */
export function blueGreenSuite(): { env: TestWorkflowEnvironment; stack: Stack } {
  const suite = {} as { env: TestWorkflowEnvironment; stack: Stack };
  before(async () => {
    suite.env = await createTemporalEnv();
    suite.stack = await Stack.start();
    suite.stack.startUsers(60, 600_000);
  });
  beforeEach(() => resetToBlue(suite.stack));
  after(async () => {
    await suite.stack?.close();
    await suite.env?.teardown();
  });
  return suite;
}

/** A blue-green spec with short windows, blue and green pointed at the stack's two services. */
export function fastBlueGreenSpec(
  stack: Stack,
  service: string,
  overrides: Partial<BlueGreenSpecInput> = {},
): BlueGreenSpec {
  return parseBlueGreenSpec({
    service,
    version: 'v2',
    environments: { blue: { targets: [stack.v1.url] }, green: { targets: [stack.v2.url] } },
    monitoring: { window: '2s', interval: '500ms', minCanaryRequests: 20 },
    postSwitch: { window: '3s', baselineWindow: '10s' },
    healthCheck: { retries: 1, interval: '200ms', timeout: '1s' },
    smokeTests: [{ name: 'smoke', path: '/smoke' }],
    // After the switch green's p99 (over a few dozen requests) is compared with blue's past, not with
    // a same-window baseline: on two shared cores one 50 ms stall would fail a healthy green. These
    // tests are about switching; error rates decide their outcomes.
    analysis: { minP99DeltaMs: 500 },
    traffic: { adminUrl: stack.router.adminUrl },
    promotion: { stabilizationDelay: '1s' },
    ...overrides,
  });
}

export interface BlueGreenRun {
  result: RolloutResult;
  /** The router's split, sampled all along the run (and once more at the end). */
  samples: SplitView[];
  split: SplitView;
  stats: AdminStats;
  /** Checks what must hold whatever happened (see InvariantWatch.check). */
  watch: InvariantWatch;
}

/**
 * Runs one blue-green rollout on its own task queue and worker while sampling the router every
 * `sampleEveryMs`. `during` runs beside the rollout (to inject faults or send signals).
 */
export async function runBlueGreen(
  env: TestWorkflowEnvironment,
  stack: Stack,
  spec: BlueGreenSpec,
  during?: (worker: Worker) => Promise<void>,
  sampleEveryMs = 50,
): Promise<BlueGreenRun> {
  const taskQueue = uniqueTaskQueue(spec.service);
  const worker = await createWorker(env, taskQueue);
  const watch = new InvariantWatch(stack, sampleEveryMs);
  try {
    const handle = await startBlueGreen(env.client, spec, taskQueue);
    const result = (await worker.runUntil(async () => {
      await during?.(worker);
      return handle.result();
    })) as RolloutResult;
    const split = await routerSplit(stack);
    const samples = [...watch.stop(), split];
    return { result, samples, split, stats: await stack.stats(), watch };
  } finally {
    watch.stop();
  }
}

/** Waits until the rollout's `state` query shows `phase`, polling every `everyMs`. */
export function phaseReached(
  env: TestWorkflowEnvironment,
  service: string,
  phase: Phase,
  timeoutMs = 30_000,
  everyMs = 25,
): Promise<RolloutState> {
  return eventually(
    async () => {
      const state = await readState(env.client, service);
      return state.phase === phase && state;
    },
    timeoutMs,
    `${service} in phase ${phase}`,
    everyMs,
  );
}

/** Polls the router every `everyMs` until `route` carries all traffic; returns when it first did. */
export async function routerCarriesAll(
  stack: Stack,
  route: RouteSpec,
  timeoutMs = 30_000,
  everyMs = 10,
): Promise<number> {
  return eventually(
    async () => carriesAll(await stack.split(), route) && Date.now(),
    timeoutMs,
    `router at 100% ${route.version} on ${route.targets.join(',')}`,
    everyMs,
  );
}

export function decisionsOf(state: RolloutState, kind: DecisionKind): Decision[] {
  return state.decisions.filter((d) => d.kind === kind);
}

export function firstDecision(state: RolloutState, kind: DecisionKind, reason?: RegExp): Decision {
  const found = state.decisions.find((d) => d.kind === kind && (!reason || reason.test(d.reason)));
  if (!found) {
    throw new Error(
      `no ${kind} decision${reason ? ` matching ${reason}` : ''}: ${JSON.stringify(
        state.decisions.map((d) => `${d.kind}: ${d.reason}`),
        null,
        1,
      )}`,
    );
  }
  return found;
}

export const msBetween = (from: Decision, to: Decision): number => Date.parse(to.at) - Date.parse(from.at);

/** Decisions as one line each, for assertion messages. */
export const explain = (state: RolloutState): string =>
  state.decisions.map((d) => `${d.at} ${d.kind} [${d.weight}%] ${d.reason}`).join('\n');
