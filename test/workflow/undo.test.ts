import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startBlueGreen, startCanary } from '../../src/client/rollouts';
import { SERVICE_VERSION_HEADER, startDemoService, type DemoServiceHandle } from '../../src/demo/service';
import { freePort } from '../../src/devserver/free-port';
import { isAlive, ProcessDeployer } from '../../src/providers/deploy/process';
import type { CanarySpecInput } from '../../src/spec/canary';
import type { DeployConfig } from '../../src/spec/deploy';
import type { RolloutResult, RolloutState } from '../../src/workflows/state';
import { type CliRun, lastJsonLine, runCli } from '../helpers/cli';
import { fastBlueGreenSpec } from '../helpers/blue-green';
import { eventually } from '../helpers/eventually';
import { putLive } from '../helpers/router-split';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

// The process deploy provider keeps pid files here; the worker runs in this process and reads it.
const STATE_DIR = mkdtempSync(join(tmpdir(), 'rollout-undo-'));
process.env.DURABLE_ROLLOUTS_STATE_DIR = STATE_DIR;

const SERVICE_MAIN = resolve(__dirname, '..', '..', 'src', 'demo', 'service-main.ts');
const PROCESS_DEPLOY: DeployConfig = {
  provider: 'process',
  command: process.execPath,
  args: ['--import', 'tsx', SERVICE_MAIN],
  env: {},
  readyTimeout: 30_000,
};

interface UndoJson {
  workflowId: string;
  runId: string;
  from: string;
  to: string;
  why: string;
  outcome: RolloutResult['outcome'];
  state: RolloutState;
}

/** Kills what the process deploy provider started, through its pid files. */
function killDeployed(): void {
  const dir = join(STATE_DIR, 'pids');
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)) {
    try {
      process.kill(Number(readFileSync(join(dir, file), 'utf8')), 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

describe('rollout undo, end to end: real dev server, router and services', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let stack: Stack;
  let v3: DemoServiceHandle;
  let taskQueue: string;
  let cliEnv: NodeJS.ProcessEnv;

  before(async () => {
    env = await createTemporalEnv();
    taskQueue = uniqueTaskQueue('undo');
    worker = await createWorker(env, taskQueue);
    running = worker.run();
    stack = await Stack.start();
    v3 = await startDemoService({ version: 'v3', port: 0 });
    stack.startUsers(60, 600_000);
    cliEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', ROLLOUT_TASK_QUEUE: taskQueue };
  });
  after(async () => {
    // First: the deployed processes outlive this test process (they are detached).
    killDeployed();
    rmSync(STATE_DIR, { recursive: true, force: true });
    worker?.shutdown();
    await running;
    await v3?.close();
    await stack?.close();
    await env?.teardown();
  });

  const target = (s: { url: string; version: string }) => ({ version: s.version, targets: [s.url] });

  /** A quick canary from one version to another; resolves with the run id once it has ended. */
  async function rollout(
    service: string,
    from: { version: string; targets: string[] },
    to: { version: string; targets: string[] },
    overrides: Partial<CanarySpecInput> = {},
  ): Promise<{ runId: string; result: Promise<RolloutResult> }> {
    const spec = fastCanarySpec(stack, {
      service,
      stable: from,
      canary: to,
      stages: [50, 100],
      monitoring: { window: '2s', interval: '500ms', minCanaryRequests: 10, maxWindow: '6s' },
      ...overrides,
    });
    const handle = await startCanary(env.client, spec, taskQueue);
    return { runId: handle.firstExecutionRunId, result: handle.result() };
  }

  /** A promoted canary, once visibility lists it closed (an undo searches visibility). */
  async function promoted(...args: Parameters<typeof rollout>): Promise<RolloutResult> {
    const { runId, result } = await rollout(...args);
    const done = await result;
    assert.equal(done.outcome, 'promoted', `${args[0]}: ${done.state.details}`);
    await visible(args[0], runId);
    return done;
  }

  /** Waits until visibility lists the run closed: an undo finds past runs through visibility. */
  async function visible(service: string, runId: string): Promise<void> {
    await eventually(
      async () => {
        for await (const wf of env.client.workflow.list({
          query: `WorkflowId = 'rollout-${service}' AND ExecutionStatus = 'Completed'`,
        }))
          if (wf.runId === runId) return true;
        return false;
      },
      10_000,
      'the closed run in visibility',
    );
  }

  /** Which version answers requests through the router: every one of `n` must be `version`. */
  async function servedBy(n = 20): Promise<string[]> {
    const versions: string[] = [];
    for (let i = 0; i < n; i++) {
      const response = await fetch(`${stack.router.url}/undo-probe-${i}`);
      await response.arrayBuffer();
      versions.push(response.headers.get(SERVICE_VERSION_HEADER) ?? `status ${response.status}`);
    }
    return [...new Set(versions)];
  }

  function undo(args: string[]): Promise<CliRun> {
    return runCli(['undo', ...args], cliEnv);
  }

  const undoKinds = (state: RolloutState) => state.decisions.map((d) => d.kind);

  it('switches straight back to the previous version while it still runs', async () => {
    await stack.routeAllToV1();
    await promoted('undo-switch', target(stack.v1), target(stack.v2));
    assert.deepEqual(await servedBy(), ['v2'], 'v2 serves before the undo');

    const run = await undo(['undo-switch', '--reason', 'bad release', '--wait', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const out = lastJsonLine<UndoJson>(run.stdout);
    assert.deepEqual([out.from, out.to, out.outcome], ['v2', 'v1', 'promoted']);
    assert.match(out.why, /canaryRollout run .* made v2 live over v1/);
    const { state } = out;
    assert.deepEqual(state.undo, { reason: 'bad release', from: 'v2', to: 'v1', method: 'switch' });
    assert.equal(state.phase, 'promoted');
    assert.deepEqual([state.stableVersion, state.canaryVersion], ['v2', 'v1']);
    assert.deepEqual(state.weights, { stable: 0, canary: 100 });
    // Every step is a decision; nothing was deployed, nothing retired.
    assert.deepEqual(undoKinds(state), ['undo', 'undo', 'undo', 'undo']);
    assert.match(state.decisions[1]!.reason, /router serves v2 100%/);
    assert.match(state.decisions[2]!.reason, /v1 is healthy \(still running\)/);
    assert.match(state.decisions[3]!.reason, /switched: router confirms v1 carries 100%.*v2 keeps running/);

    const split = await stack.split();
    assert.equal(split.stable?.version, 'v1');
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    assert.deepEqual(await servedBy(), ['v1'], 'every request through the router is answered by v1');

    // status shows the undo like any rollout.
    const status = await runCli(['status', 'undo-switch', '--json'], cliEnv);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(lastJsonLine<RolloutState>(status.stdout).undo?.method, 'switch');
  });

  it('redeploys the previous version through the deploy provider when it was retired, then switches', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const v1 = { version: 'v1', targets: [`http://127.0.0.1:${p1}`] };
    const v2 = { version: 'v2', targets: [`http://127.0.0.1:${p2}`] };
    // v1 deployed the way the worker deploys, before any rollout.
    await new ProcessDeployer(PROCESS_DEPLOY).deploy({ service: 'undo-redeploy', ...v1 }, () => undefined);
    await putLive(stack.router.adminUrl, v1);
    const first = await promoted('undo-redeploy', v1, v2, {
      deploy: PROCESS_DEPLOY,
      healthCheck: { retries: 1, interval: '200ms', timeout: '1s' },
    });
    assert.ok(
      first.state.decisions.some((d) => d.kind === 'retire' && /stopped/.test(d.reason)),
      'the promotion retired v1',
    );
    await eventually(
      async () =>
        !(await fetch(v1.targets[0]!).then(
          () => true,
          () => false,
        )),
      10_000,
      'v1 gone',
    );
    assert.deepEqual(await servedBy(), ['v2']);

    const run = await undo(['undo-redeploy', '--wait', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const { state } = lastJsonLine<UndoJson>(run.stdout);
    assert.equal(state.outcome, 'promoted', state.details);
    assert.equal(state.undo?.method, 'redeploy');
    const reasons = state.decisions.map((d) => d.reason);
    assert.match(reasons[2]!, /v1 is not healthy \(still running\)/);
    assert.match(reasons[3]!, /redeployed v1: started http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/);
    assert.match(reasons[4]!, /v1 is healthy \(redeployed\)/);
    assert.match(reasons[5]!, /switched: router confirms v1 carries 100%/);
    assert.deepEqual(await servedBy(), ['v1'], 'the redeployed v1 answers every request');
    // The undone version was not retired.
    assert.equal((await fetch(`${v2.targets[0]}/healthz`)).status, 200, 'v2 still runs');
    const pid = Number(readFileSync(join(STATE_DIR, 'pids', `undo-redeploy-v1-${p1}.pid`), 'utf8'));
    assert.ok(isAlive(pid), 'v1 runs as a process the deploy provider started');
    await stack.routeAllToV1();
    for (const version of [v1, v2]) {
      await new ProcessDeployer(PROCESS_DEPLOY).retire({ service: 'undo-redeploy', ...version });
    }
  });

  it('is refused while a rollout runs (exit 3); --abort-running aborts it, then undoes', async () => {
    await stack.routeAllToV1();
    await promoted('undo-busy', target(stack.v1), target(stack.v2));
    const busy = await rollout('undo-busy', target(stack.v2), target(v3), {
      stages: [50, 100],
      monitoring: { window: '60s', interval: '1s', minCanaryRequests: 10, maxWindow: '120s' },
    });
    await eventually(async () => (await stack.split()).weights.canary === 50, 20_000, 'v3 at 50%');

    const refused = await undo(['undo-busy']);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /refused: another rollout of "undo-busy" is running.*--abort-running/);
    const split = await stack.split();
    assert.deepEqual(
      [split.canary?.version, split.weights.canary],
      ['v3', 50],
      'the running rollout untouched',
    );
    const handle = env.client.workflow.getHandle('rollout-undo-busy', busy.runId);
    assert.equal((await handle.describe()).status.name, 'RUNNING');

    const run = await undo([
      'undo-busy',
      '--abort-running',
      '--reason',
      'v2 broke checkout',
      '--wait',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /abort sent to rollout-undo-busy/);
    const aborted = await busy.result;
    assert.equal(aborted.outcome, 'aborted');
    assert.equal(aborted.state.abortReason, 'aborted for undo: v2 broke checkout');
    const out = lastJsonLine<UndoJson & { aborted: { runId: string } }>(run.stdout);
    assert.equal(out.aborted.runId, busy.runId);
    // The last promotion (v1 → v2) is what is undone.
    assert.deepEqual([out.from, out.to, out.outcome], ['v2', 'v1', 'promoted']);
    assert.deepEqual(await servedBy(), ['v1']);
  });

  it('--to puts an older version back, and an undo of that undo puts the undone one back', async () => {
    await stack.routeAllToV1();
    await promoted('undo-to', target(stack.v1), target(stack.v2));
    await promoted('undo-to', target(stack.v2), target(v3));
    assert.deepEqual(await servedBy(), ['v3']);

    const run = await undo(['undo-to', '--to', 'v1', '--wait', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const out = lastJsonLine<UndoJson>(run.stdout);
    assert.deepEqual([out.from, out.to, out.outcome], ['v3', 'v1', 'promoted']);
    assert.deepEqual(await servedBy(), ['v1'], 'v1, not the previous v2');

    await visible('undo-to', out.runId);
    // In human words this time: what it puts back and why, then the result.
    const again = await undo(['undo-to', '--wait']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /undo undo-to: putting v3 back in place of v1\n {2}why: undoRollout run \S+ made v1 live over v3/,
    );
    assert.match(again.stdout, /phase: promoted/);
    assert.match(again.stdout, /outcome: promoted/);
    assert.match(again.stdout, /switched: router confirms v3 carries 100%/);
    const back = (await env.client.workflow.getHandle('rollout-undo-to').result()) as RolloutResult;
    assert.deepEqual(
      [back.state.undo?.from, back.state.undo?.to, back.state.undo?.method],
      ['v1', 'v3', 'switch'],
    );
    assert.deepEqual(await servedBy(), ['v3']);

    const unknown = await undo(['undo-to', '--to', 'v9']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /had version v9/);
  });

  it('blue-green: puts the environment that was live back, and the next rollout deploys to the other one', async () => {
    await stack.routeAllToV1();
    const first = await startBlueGreen(env.client, fastBlueGreenSpec(stack, 'undo-bg'), taskQueue);
    const promotedRun = await first.result();
    assert.equal(promotedRun.outcome, 'promoted', promotedRun.state.details);
    await visible('undo-bg', first.firstExecutionRunId);
    assert.deepEqual(await servedBy(), ['v2'], 'green serves v2');

    const run = await undo(['undo-bg', '--wait', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const { state } = lastJsonLine<UndoJson>(run.stdout);
    assert.deepEqual([state.undo?.from, state.undo?.to, state.undo?.method], ['v2', 'v1', 'switch']);
    assert.equal(state.strategy, 'blue-green');
    assert.deepEqual(state.environments, { live: 'green', idle: 'blue' });
    const split = await stack.split();
    assert.deepEqual([split.stable?.version, split.stable?.targets], ['v1', [stack.v1.url]], 'blue is live');
    assert.deepEqual(await servedBy(), ['v1']);

    // The next blue-green rollout reads blue as live and deploys to green.
    const next = await startBlueGreen(
      env.client,
      fastBlueGreenSpec(stack, 'undo-bg', { version: 'v3' }),
      taskQueue,
    );
    const nextRun = await next.result();
    assert.equal(nextRun.outcome, 'promoted', nextRun.state.details);
    assert.deepEqual(nextRun.state.environments, { live: 'blue', idle: 'green' });
    assert.equal(nextRun.state.stableVersion, 'v1');
  });

  it('exits 2 with a clear message when there is nothing to undo', async () => {
    await stack.routeAllToV1();
    const before = await stack.split();
    const run = await undo(['undo-nothing']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /nothing to undo: no rollout of "undo-nothing" ended promoted/);
    await assert.rejects(env.client.workflow.getHandle('rollout-undo-nothing').describe(), /not found/i);
    // A rolled-back rollout is not a promotion either.
    stack.v2.setFaults({ errorRate: 0.6 });
    const { result } = await rollout('undo-nothing', target(stack.v1), target(stack.v2));
    assert.equal((await result).outcome, 'rolled_back');
    stack.v2.setFaults({ errorRate: 0 });
    const still = await undo(['undo-nothing']);
    assert.equal(still.code, 2, still.stderr);
    assert.match(still.stderr, /nothing to undo/);
    assert.deepEqual((await stack.split()).stable, before.stable);

    const badName = await undo(["x' OR '1'='1"]);
    assert.equal(badName.code, 2, badName.stderr);
  });
});
