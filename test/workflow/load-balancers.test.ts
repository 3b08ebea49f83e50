/**
 * Rollouts steering real load balancers (issue 8, "Done when"): HAProxy through its Runtime API and
 * NGINX through a rendered, checked and reloaded include file, each in front of two real demo
 * services, with users going through the load balancer's port. Every end state is read from the
 * load balancer itself (lb-stack.ts reads it without the adapter) and proven by real requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { abortRollout, readState, startBlueGreen, startCanary } from '../../src/client/rollouts';
import type { Faults } from '../../src/demo/service';
import { parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';
import type { RolloutResult, RolloutState } from '../../src/workflows/state';
import { eventually as until } from '../helpers/eventually';
import { sleep } from '../helpers/fault-env';
import {
  type LbStack,
  servedBy,
  startHaproxyStack,
  startNginxStack,
  usersThrough,
} from '../helpers/lb-stack';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

const STARTERS: Record<LbStack['kind'], (faults?: Partial<Faults>) => Promise<LbStack>> = {
  haproxy: startHaproxyStack,
  nginx: startNginxStack,
};

const TESTERS = { 'x-canary': 'always' };

function canarySpec(stack: LbStack, service: string, overrides: Record<string, unknown> = {}) {
  const { traffic, metrics, analysis } = stack.sections();
  return parseCanarySpec({
    service,
    stable: { version: 'v1', targets: [stack.blue.url], routes: ['blue'] },
    canary: { version: 'v2', targets: [stack.green.url], routes: ['green'], match: { headers: TESTERS } },
    stages: [20, 50, 100],
    // maxWindow leaves room for the restart mid-rollout: while the load balancer comes back and
    // Prometheus scrapes again, a stage may need more than a few extensions to judge latency.
    monitoring: { window: '4s', interval: '1s', minCanaryRequests: 15, maxWindow: '20s' },
    healthCheck: { retries: 1, interval: '200ms', timeout: '1s' },
    traffic,
    metrics,
    analysis,
    promotion: { stabilizationDelay: '1s' },
    ...overrides,
  });
}

/**
 * A rollout that holds for a human (an inconclusive stage) would wait forever: fail instead, with
 * the latest rollouts' decisions in the message, well before CI's own limit.
 */
const RUN_DEADLINE_MS = 180_000;

async function withinDeadline<R>(p: Promise<R>): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no result within ${RUN_DEADLINE_MS / 1000} s (held for a human?)`)),
      RUN_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

for (const kind of ['haproxy', 'nginx'] as const) {
  describe(`rollouts on a real ${kind}`, () => {
    let env: TestWorkflowEnvironment;
    before(async () => {
      env = await createTemporalEnv();
    });
    after(async () => {
      await env?.teardown();
    });

    /** Waits (up to 30 s) until the rollout's queried state satisfies `done`. */
    const untilState = (service: string, done: (state: RolloutState) => boolean, what: string) =>
      until(async () => done(await readState(env.client, service)), 30_000, what);

    async function withStack<T>(
      faults: Partial<Faults>,
      body: (stack: LbStack, taskQueue: string, run: <R>(p: Promise<R>) => Promise<R>) => Promise<T>,
    ): Promise<T> {
      const stack = await STARTERS[kind](faults);
      const taskQueue = uniqueTaskQueue(`${kind}-lb`);
      const worker = await createWorker(env, taskQueue);
      const users = usersThrough(stack);
      try {
        return await body(stack, taskQueue, (p) => worker.runUntil(withinDeadline(p)));
      } finally {
        await users.stop();
        await stack.close();
      }
    }

    it('promotes a good canary, with testers on it by header and a load-balancer restart mid-rollout', async () => {
      await withStack({}, async (stack, taskQueue, run) => {
        const service = `${kind}-good`;
        const handle = await startCanary(env.client, canarySpec(stack, service), taskQueue);
        const result = (await run(
          (async () => {
            await untilState(service, (state) => state.weights.canary === 20, 'stage 1 at 20%');
            // Testers reach the canary whatever the weight; everyone else follows the 20%.
            assert.deepEqual(await servedBy(stack.url, 10, TESTERS), { v2: 10 });
            assert.deepEqual((await stack.state()).match, TESTERS);
            await stack.restart();
            assert.equal((await stack.state()).shares.green, 20, 'the restarted load balancer keeps 20%');
            return handle.result();
          })(),
        )) as RolloutResult;
        assert.equal(result.outcome, 'promoted');
        const state = await stack.state();
        assert.equal(state.shares.green, 100);
        assert.equal(state.shares.blue ?? 0, 0);
        assert.equal(state.match, null, 'the header route is removed when the rollout ends');
        assert.deepEqual(await servedBy(stack.url, 20), { v2: 20 });
        assert.deepEqual(await servedBy(stack.url, 5, TESTERS), { v2: 5 });
        const weights = result.state.decisions.filter((d) => d.kind === 'set-weight').map((d) => d.weight);
        assert.deepEqual(weights, [20, 50, 100]);
      });
    });

    it("rolls a bad canary back by itself, on the load balancer's own view", async () => {
      await withStack({ errorRate: 0.5 }, async (stack, taskQueue, run) => {
        const service = `${kind}-bad`;
        const handle = await startCanary(env.client, canarySpec(stack, service), taskQueue);
        const result = (await run(handle.result())) as RolloutResult;
        assert.equal(result.outcome, 'rolled_back');
        const state = await stack.state();
        assert.equal(state.shares.green ?? 0, 0);
        assert.equal(state.shares.blue, 100);
        assert.equal(state.match, null);
        assert.deepEqual(await servedBy(stack.url, 20), { v1: 20 });
        assert.deepEqual(
          await servedBy(stack.url, 5, TESTERS),
          { v1: 5 },
          'testers leave the failed canary too',
        );
        assert.match(result.state.decisions.find((d) => d.kind === 'rollback')?.reason ?? '', /error-rate/);
      });
    });

    it('aborts with the load balancer down: the rollback retries until it is back, then stable has everyone', async () => {
      await withStack({}, async (stack, taskQueue, run) => {
        const service = `${kind}-abort`;
        const handle = await startCanary(
          env.client,
          canarySpec(stack, service, {
            monitoring: { window: '60s', interval: '1s', minCanaryRequests: 15 },
          }),
          taskQueue,
        );
        const result = (await run(
          (async () => {
            await untilState(service, (state) => state.weights.canary === 20, 'stage 1 at 20%');
            const start = await stack.crash();
            await abortRollout(env.client, service, 'operator saw something');
            await untilState(service, (state) => state.phase === 'rolling-back', 'the rollback to begin');
            await sleep(1500); // the rollback retries against a dead load balancer
            await start();
            return handle.result();
          })(),
        )) as RolloutResult;
        assert.equal(result.outcome, 'aborted');
        const state = await stack.state();
        assert.equal(state.shares.green ?? 0, 0);
        assert.equal(state.match, null);
        assert.deepEqual(await servedBy(stack.url, 20), { v1: 20 });
      });
    });

    it('switches blue-green, then switches back when green degrades after the switch', async () => {
      await withStack({}, async (stack, taskQueue, run) => {
        const service = `${kind}-bluegreen`;
        const { traffic, metrics, analysis } = stack.sections();
        const spec = parseBlueGreenSpec({
          service,
          version: 'v2',
          environments: {
            blue: { targets: [stack.blue.url], routes: ['blue'] },
            green: { targets: [stack.green.url], routes: ['green'] },
          },
          validation: { weight: 0 },
          monitoring: { window: '3s', interval: '1s', minCanaryRequests: 10 },
          postSwitch: { window: '20s', baselineWindow: '10s', maxErrorRate: 0.05 },
          healthCheck: { retries: 1, interval: '200ms', timeout: '1s' },
          traffic,
          metrics,
          analysis,
          promotion: { mode: 'auto', delay: '0s', stabilizationDelay: '1s' },
        });
        await stack.routeAllToV1();
        await sleep(2000); // a baseline for the post-switch check
        const handle = await startBlueGreen(env.client, spec, taskQueue);
        const result = (await run(
          (async () => {
            await untilState(service, (state) => state.phase === 'post-switch', 'the switch');
            assert.equal((await stack.state()).shares.green, 100, 'switched: green carries everyone');
            assert.deepEqual(await servedBy(stack.url, 10), { v2: 10 });
            stack.green.setFaults({ errorRate: 0.5 });
            return handle.result();
          })(),
        )) as RolloutResult;
        assert.equal(result.outcome, 'rolled_back');
        const state = await stack.state();
        assert.equal(state.shares.blue, 100, 'switched back to blue');
        assert.deepEqual(await servedBy(stack.url, 20), { v1: 20 });
      });
    });
  });
}
