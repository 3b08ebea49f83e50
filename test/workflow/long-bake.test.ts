import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  pauseRollout,
  readState,
  resumeRollout,
  startBlueGreen,
  startCanary,
} from '../../src/client/rollouts';
import type { RolloutResult } from '../../src/workflows/state';
import { carriesAll, fastBlueGreenSpec, greenRoute, resetToBlue } from '../helpers/blue-green';
import { fastCanarySpec } from '../helpers/spec';
import { isMetricRead } from '../helpers/history-events';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';
import { eventually } from '../helpers/eventually';

const SUGGEST_AT = 60;

describe('long bakes continue as new and carry their state', () => {
  let env: TestWorkflowEnvironment;
  let stack: Stack;
  before(async () => {
    // A tiny history budget makes the server suggest continue-as-new after a few polls.
    env = await createTemporalEnv({ 'limit.historyCount.suggestContinueAsNew': SUGGEST_AT });
    stack = await Stack.start();
    stack.startUsers(60, 300_000);
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it('keeps stages, window progress, decisions, query and signals across runs', async () => {
    const taskQueue = uniqueTaskQueue('bake');
    const worker = await createWorker(env, taskQueue);
    const spec = fastCanarySpec(stack, {
      service: 'long-bake',
      monitoring: { window: '8s', interval: '500ms', minCanaryRequests: 15 },
    });
    const handle = await startCanary(env.client, spec, taskQueue);
    const result = await worker.runUntil(async () => {
      // Wait for at least one new run, then pause and resume through it.
      await eventually(
        async () => (await handle.describe()).runId !== handle.firstExecutionRunId,
        30_000,
        'a continued run',
      );
      const mid = await readState(env.client, 'long-bake');
      assert.ok(
        mid.decisions.length > 0 && mid.stageIndex >= 0,
        'the query answers from the new run with the carried state',
      );
      await pauseRollout(env.client, 'long-bake', 'hold across runs');
      await new Promise((r) => setTimeout(r, 3000));
      const held = await readState(env.client, 'long-bake');
      assert.equal(held.paused, true);
      await resumeRollout(env.client, 'long-bake');
      return (await handle.result()) as RolloutResult;
    });
    assert.equal(result.outcome, 'promoted');
    // No stage skipped or repeated: the weights were set exactly once each, in order.
    assert.deepEqual(
      result.state.decisions.filter((d) => d.kind === 'set-weight').map((d) => d.weight),
      [20, 50, 100],
    );
    assert.equal(
      result.state.decisions.filter((d) => d.kind === 'deploy').length,
      1,
      'deployed once, not per run',
    );
    assert.equal(result.state.decisions.filter((d) => d.kind === 'advance').length, 2);

    // Every run stayed near the suggested size; report events per poll from the histories.
    const runs: { runId: string; events: number; polls: number }[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = 'rollout-long-bake'` })) {
      const history = await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const events = history.events ?? [];
      const polls = events.filter(isMetricRead).length;
      runs.push({ runId: wf.runId, events: events.length, polls });
    }
    assert.ok(runs.length >= 3, `expected several runs, got ${runs.length}`);
    for (const run of runs) assert.ok(run.events < SUGGEST_AT + 40, `a run grew to ${run.events} events`);
    const busiest = runs.reduce((a, b) => (b.polls > a.polls ? b : a));
    assert.ok(busiest.polls >= 3, `the polls are in the history: ${JSON.stringify(runs)}`);
    console.log(
      `long bake: ${runs.length} runs; busiest run ${busiest.events} events for ${busiest.polls} polls (${(busiest.events / Math.max(1, busiest.polls)).toFixed(1)} events per poll)`,
    );
  });

  it('a blue-green bake continues as new in its validation slice and after the switch, and keeps its place', async () => {
    await resetToBlue(stack);
    const taskQueue = uniqueTaskQueue('bake-bg');
    const worker = await createWorker(env, taskQueue);
    const spec = fastBlueGreenSpec(stack, 'long-bake-bg', {
      monitoring: { window: '6s', interval: '500ms', minCanaryRequests: 15 },
      validation: { weight: 20, window: '6s' },
      postSwitch: { window: '8s', baselineWindow: '10s' },
    });
    const handle = await startBlueGreen(env.client, spec, taskQueue);
    const phasesAtNewRuns = new Set<string>();
    const result = await worker.runUntil(async () => {
      let runId = handle.firstExecutionRunId;
      for (;;) {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') break;
        if (description.runId !== runId) {
          runId = description.runId;
          phasesAtNewRuns.add((await readState(env.client, 'long-bake-bg')).phase);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      return (await handle.result()) as RolloutResult;
    });
    assert.equal(result.outcome, 'promoted');
    assert.ok(carriesAll(await stack.split(), greenRoute(stack)), 'green carries 100% at the end');
    assert.ok(
      phasesAtNewRuns.has('validating'),
      `continued as new while validating: ${[...phasesAtNewRuns].join(', ')}`,
    );
    assert.ok(
      phasesAtNewRuns.has('post-switch'),
      `continued as new after the switch: ${[...phasesAtNewRuns].join(', ')}`,
    );
    const kinds = (kind: string) => result.state.decisions.filter((d) => d.kind === kind);
    // One names the live environment, one is the deploy itself: neither repeats in a new run.
    assert.equal(kinds('deploy').length, 2, 'deployed once, not per run');
    assert.equal(kinds('promote').length, 1, 'switched once');
    assert.deepEqual(
      kinds('set-weight').map((d) => d.weight),
      [20, 0],
      'the validation slice was set once and cleared once',
    );
    const advances = result.state.decisions.filter((d) => d.kind === 'advance' || d.kind === 'promote');
    assert.deepEqual(
      advances.map((d) => d.kind),
      ['advance', 'promote', 'advance'],
      'the slice passed once, the switch happened once, the post-switch window passed once',
    );
  });
});
