import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abortRollout, readState, resumeRollout, startCanary } from '../../src/client/rollouts';
import type { RolloutResult, RolloutState } from '../../src/workflows/state';
import { eventually } from '../helpers/eventually';
import { sleep } from '../helpers/fault-env';
import { assertSetWeightDecisions } from '../helpers/invariants';
import { faultSuite } from '../helpers/fault-suite';
import { fastCanarySpec } from '../helpers/spec';
import { TcpRelay } from '../helpers/tcp-relay';

/**
 * The traffic or the metrics provider becomes unreachable: the spec points its adminUrl at a TCP
 * relay in front of the router's admin API, and the relay is taken down (new connections refused,
 * open keep-alive connections cut). The other provider reaches the router directly.
 */
describe('a provider the rollout depends on is unreachable', () => {
  const STAGES = [20, 50, 100];
  const suite = faultSuite();
  async function setUp(service: string) {
    const fault = await suite.setUp(service);
    const relay = suite.cleanup.add(await TcpRelay.start({ target: fault.stack.router.adminUrl }), (r) =>
      r.close(),
    );
    await fault.startWorker();
    return { ...fault, relay };
  }

  const state = (service: string) => readState(suite.env.client, service);

  it('traffic provider down during a rollback: retries (and says so) until it answers, then stable 100%', async () => {
    const { stack, relay, taskQueue, watch } = await setUp('traffic-down');
    const spec = fastCanarySpec(stack, {
      service: 'traffic-down',
      stages: STAGES,
      monitoring: { window: '60s', interval: '1s', minCanaryRequests: 15 },
      traffic: { provider: 'embedded', adminUrl: relay.url },
      metrics: { provider: 'embedded', adminUrl: stack.router.adminUrl },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    await eventually(
      async () => {
        const s = await state('traffic-down');
        return s.phase === 'monitoring' && s.weights.canary === 20;
      },
      40_000,
      'monitoring at 20%',
    );

    await relay.down();
    const downAt = Date.now();
    const samplesBefore = watch.samples.length;
    await abortRollout(suite.env.client, 'traffic-down', 'abort while the router admin API is unreachable');
    const retrying = await eventually(
      async () => {
        const s = await state('traffic-down');
        return s.decisions.some((d) => d.kind === 'error' && /still retrying/.test(d.reason)) && s;
      },
      40_000,
      'the rollback reported as still retrying',
    );
    const warnedAfter = Date.now() - downAt;
    assert.equal(retrying.phase, 'rolling-back');
    assert.equal(retrying.outcome, null, 'not finished while the router cannot be reached');
    assert.ok(warnedAfter >= 14_000, `the warning comes after 15 s of retrying (${warnedAfter} ms)`);
    await sleep(2000);
    assert.deepEqual(
      (await stack.split()).weights,
      { stable: 80, canary: 20 },
      'the router keeps its old split',
    );
    const whileDown = watch.samples.slice(samplesBefore);
    assert.ok(whileDown.length > 100, 'sampled all along');
    assert.ok(
      whileDown.every((s) => s.weights.canary === 20),
      'the router kept its old split in every sample while unreachable',
    );

    const upAt = Date.now();
    await relay.up();
    await eventually(
      async () => (await stack.split()).weights.canary === 0,
      30_000,
      'router at 0% canary',
      20,
    );
    const convergedAfter = Date.now() - upAt;
    const result = (await handle.result()) as RolloutResult;
    console.log(
      `traffic down: "still retrying" after ${warnedAfter} ms; relay up → router at 0% in ${convergedAfter} ms (restore backoff caps at 10 s); relay was down ${
        upAt - downAt
      } ms`,
    );

    assert.equal(result.outcome, 'aborted');
    assert.ok(convergedAfter < 12_000, 'converges within one maximum retry interval');
    const kinds = result.state.decisions.map((d) => d.kind);
    assert.ok(kinds.indexOf('abort') < kinds.lastIndexOf('error'), 'abort, then the retry warning');
    assert.ok(kinds.lastIndexOf('error') < kinds.lastIndexOf('set-weight'), 'then the router confirms');
    assertSetWeightDecisions(result.state, STAGES);
    await watch.check({
      outcome: 'aborted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });

  /** Every verdict the rollout kept, and every decision's evidence that is a verdict. */
  function verdictsOf(s: RolloutState): { result: string; summary: string }[] {
    const fromDecisions = s.decisions
      .map((d) => d.evidence as { result?: string; summary?: string } | undefined)
      .filter((e): e is { result: string; summary: string } => typeof e?.result === 'string');
    return [...s.recentVerdicts, ...fromDecisions];
  }

  function assertOnlyUnavailable(s: RolloutState): void {
    const verdicts = verdictsOf(s);
    assert.ok(verdicts.length >= 3, `polled several times (${verdicts.length})`);
    for (const v of verdicts) {
      assert.equal(v.result, 'inconclusive', `never a pass or a fail without data: ${v.summary}`);
      assert.match(v.summary, /metrics unavailable/);
    }
  }

  it("metrics down, onInconclusive 'rollback': inconclusive verdicts only, rolled back after maxWindow", async () => {
    const { stack, relay, taskQueue, watch } = await setUp('metrics-down-rollback');
    await relay.down();
    const spec = fastCanarySpec(stack, {
      service: 'metrics-down-rollback',
      stages: STAGES,
      monitoring: {
        window: '2s',
        interval: '500ms',
        minCanaryRequests: 15,
        maxWindow: '5s',
        onInconclusive: 'rollback',
      },
      metrics: { provider: 'embedded', adminUrl: relay.url },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    const result = (await handle.result()) as RolloutResult;

    assert.equal(result.outcome, 'rolled_back');
    assertOnlyUnavailable(result.state);
    assert.equal(result.state.lastVerdict?.result, 'inconclusive');
    const setAt = result.state.decisions.find((d) => d.kind === 'set-weight' && d.weight === 20);
    const rollback = result.state.decisions.find((d) => d.kind === 'rollback');
    assert.ok(setAt && rollback);
    assert.match(rollback.reason, /inconclusive after 5s.*metrics unavailable/);
    const heldFor = Date.parse(rollback.at) - Date.parse(setAt.at);
    assert.ok(heldFor >= 5000, `waited the whole maxWindow (${heldFor} ms)`);
    assert.ok(
      result.state.decisions.some((d) => d.kind === 'extend'),
      'the window was extended first',
    );
    assert.equal(result.state.decisions.filter((d) => d.kind === 'advance').length, 0, 'never advanced');
    console.log(`metrics down (rollback): rolled back ${heldFor} ms after the stage began (maxWindow 5 s)`);
    assertSetWeightDecisions(result.state, STAGES);
    await watch.check({
      outcome: 'rolled_back',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });

  it("metrics down, onInconclusive 'pause': holds paused at the stage; metrics back + resume promotes", async () => {
    const { stack, relay, taskQueue, watch } = await setUp('metrics-down-pause');
    await relay.down();
    const spec = fastCanarySpec(stack, {
      service: 'metrics-down-pause',
      stages: STAGES,
      monitoring: {
        window: '2s',
        interval: '500ms',
        minCanaryRequests: 15,
        maxWindow: '4s',
        onInconclusive: 'pause',
      },
      metrics: { provider: 'embedded', adminUrl: relay.url },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    const held = await eventually(
      async () => {
        const s = await state('metrics-down-pause');
        return s.paused && s;
      },
      40_000,
      'the rollout holding',
    );
    assert.equal(held.phase, 'monitoring');
    assert.match(held.pauseReason ?? '', /inconclusive/);
    assert.ok(held.decisions.some((d) => d.kind === 'hold'));
    // Well past maxWindow: still holding, still guarding, still at the first stage.
    await sleep(4000);
    const later = await state('metrics-down-pause');
    assert.equal(later.paused, true);
    assert.equal(later.phase, 'monitoring');
    assert.equal(later.stageIndex, 0);
    assert.equal(later.outcome, null);
    assert.ok(later.verdictCount > held.verdictCount, 'polling goes on while held');
    assertOnlyUnavailable(later);
    assert.equal((await stack.split()).weights.canary, 20, 'the router holds the first stage');

    await relay.up();
    await resumeRollout(suite.env.client, 'metrics-down-pause');
    const result = (await handle.result()) as RolloutResult;
    assert.equal(result.outcome, 'promoted');
    assert.ok(
      result.state.decisions.some((d) => d.kind === 'advance' && /resumed after inconclusive/.test(d.reason)),
      'the first stage was accepted by the operator, not by a verdict',
    );
    assert.ok(
      result.state.decisions.some((d) => d.kind === 'advance' && d.stage === 1 && /passed/.test(d.reason)),
      'the second stage passed on real metrics once they were back',
    );
    assertSetWeightDecisions(result.state, STAGES);
    await watch.check({
      outcome: 'promoted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });
});
