import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkUndoArguments,
  type PastPromotion,
  pastPromotion,
  pickUndoTarget,
  UndoInputError,
} from '../../src/client/undo';
import type { DeployConfig } from '../../src/spec/deploy';
import { parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';
import type { RolloutResult, RolloutState } from '../../src/workflows/state';
import type { UndoRolloutInput } from '../../src/workflows/undo';

const url = (port: number) => `http://127.0.0.1:${port}`;
let run = 0;

function result(
  outcome: RolloutResult['outcome'],
  state: Partial<RolloutState> & Pick<RolloutState, 'strategy'>,
): RolloutResult {
  return { outcome, state: { environments: null, stableVersion: null, ...state } as RolloutState };
}

const runInfo = (workflowType: string) => ({
  workflowId: 'rollout-checkout',
  runId: `run-${++run}`,
  workflowType,
  closedAt: new Date(1_700_000_000_000 + run * 1000).toISOString(),
});

/** A promoted canary from `from` on one port to `to` on another, with its own deploy provider. */
function canary(from: [string, number], to: [string, number], deploy?: DeployConfig): PastPromotion {
  const spec = parseCanarySpec({
    service: 'checkout',
    stable: { version: from[0], targets: [url(from[1])] },
    canary: { version: to[0], targets: [url(to[1])] },
    ...(deploy ? { deploy } : {}),
  });
  const promotion = pastPromotion(
    runInfo('canaryRollout'),
    { spec },
    result('promoted', { strategy: 'canary' }),
  );
  assert.ok(promotion);
  return promotion;
}

const blueGreenSpec = (version: string) =>
  parseBlueGreenSpec({
    service: 'checkout',
    version,
    environments: { blue: { targets: [url(8001)] }, green: { targets: [url(8002)] } },
  });

function blueGreen(from: string, live: 'blue' | 'green', to: string): PastPromotion {
  const promotion = pastPromotion(
    runInfo('blueGreenRollout'),
    { spec: blueGreenSpec(to) },
    result('promoted', {
      strategy: 'blue-green',
      stableVersion: from,
      environments: { live, idle: live === 'blue' ? 'green' : 'blue' },
    }),
  );
  assert.ok(promotion);
  return promotion;
}

/** The undo run a plan would start, as it reads back from history. */
function undoRun(plan: ReturnType<typeof pickUndoTarget>): PastPromotion {
  const input: UndoRolloutInput = { ...plan.input, reason: 'test' };
  const promotion = pastPromotion(
    runInfo('undoRollout'),
    input,
    result('promoted', { strategy: plan.input.strategy }),
  );
  assert.ok(promotion);
  return promotion;
}

const processDeploy = (tag: string): DeployConfig => ({
  provider: 'process',
  command: '/usr/bin/env',
  args: [tag],
  env: {},
  readyTimeout: 1000,
});

describe('pickUndoTarget: what `rollout undo` puts back', () => {
  test('nothing promoted: refused, saying so', () => {
    assert.throws(
      () => pickUndoTarget('checkout', []),
      (err: Error) => {
        assert.ok(err instanceof UndoInputError);
        assert.match(err.message, /nothing to undo: no rollout of "checkout" ended promoted/);
        return true;
      },
    );
  });

  test('a promoted canary: its stable version comes back, and the canary version is taken out', () => {
    const plan = pickUndoTarget('checkout', [canary(['v1', 8001], ['v2', 8002])]);
    assert.deepEqual(plan.input.from, { version: 'v2', targets: [url(8002)] });
    assert.deepEqual(plan.input.to, { version: 'v1', targets: [url(8001)] });
    assert.equal(plan.input.environment, 'stable');
    assert.equal(plan.input.strategy, 'canary');
    assert.match(plan.why, /canaryRollout run run-\d+ made v2 live over v1/);
  });

  test('the version comes back with the deploy provider of the run that deployed it, when known', () => {
    const older = canary(['v0', 8003], ['v1', 8001], processDeploy('deployed-v1'));
    const newer = canary(['v1', 8001], ['v2', 8002], processDeploy('deployed-v2'));
    const plan = pickUndoTarget('checkout', [newer, older]);
    assert.equal(plan.input.to.version, 'v1');
    assert.deepEqual(plan.input.deploy, processDeploy('deployed-v1'));
    // Unknown deployer (v1 was there before any rollout): the live run's provider.
    assert.deepEqual(pickUndoTarget('checkout', [newer]).input.deploy, processDeploy('deployed-v2'));
  });

  test('a promoted blue-green: the environment that was live comes back, by name', () => {
    const plan = pickUndoTarget('checkout', [blueGreen('v1', 'blue', 'v2')]);
    assert.deepEqual(plan.input.from, { version: 'v2', targets: [url(8002)] });
    assert.deepEqual(plan.input.to, { version: 'v1', targets: [url(8001)] });
    assert.equal(plan.input.environment, 'blue');
    assert.equal(plan.input.strategy, 'blue-green');
  });

  test('an undo of an undo puts the undone version back (canary and blue-green)', () => {
    const first = canary(['v1', 8001], ['v2', 8002]);
    const undone = undoRun(pickUndoTarget('checkout', [first]));
    const again = pickUndoTarget('checkout', [undone, first]);
    assert.deepEqual([again.input.from.version, again.input.to.version], ['v1', 'v2']);
    assert.deepEqual(again.input.to.targets, [url(8002)]);
    assert.match(again.why, /undoRollout run/);

    const bg = blueGreen('v1', 'blue', 'v2');
    const bgUndone = undoRun(pickUndoTarget('checkout', [bg]));
    const bgAgain = pickUndoTarget('checkout', [bgUndone, bg]);
    assert.deepEqual([bgAgain.input.from.version, bgAgain.input.to.version], ['v1', 'v2']);
    assert.equal(bgAgain.input.environment, 'green', 'v2 goes back to green, where it ran');
  });

  test('--to picks an older version, from either side of an older run', () => {
    const runs = [canary(['v2', 8002], ['v3', 8003]), canary(['v1', 8001], ['v2', 8002])];
    const old = pickUndoTarget('checkout', runs, 'v1');
    assert.deepEqual([old.input.from.version, old.input.to.version], ['v3', 'v1']);
    assert.deepEqual(old.input.to.targets, [url(8001)]);
    assert.equal(old.input.source?.runId, runs[1]!.runId, 'the run that had v1 is the source');
    const previous = pickUndoTarget('checkout', runs, 'v2');
    assert.deepEqual(previous.input.to, { version: 'v2', targets: [url(8002)] });
  });

  test('--to refuses an unknown version and the live one', () => {
    const runs = [canary(['v1', 8001], ['v2', 8002])];
    assert.throws(() => pickUndoTarget('checkout', runs, 'v9'), /had version v9/);
    assert.throws(() => pickUndoTarget('checkout', runs, 'v2'), /v2 is live already/);
  });

  test('a version whose targets another version used since is refused: a health check cannot tell them apart', () => {
    // blue v1 → green v2, then green v2 → blue v3: v1's blue now runs v3.
    const runs = [blueGreen('v2', 'green', 'v3'), blueGreen('v1', 'blue', 'v2')];
    assert.throws(() => pickUndoTarget('checkout', runs, 'v1'), /v1 ran on .*8001, where v3 has run since/);
    // The plain undo (v2 on green) is fine.
    assert.equal(pickUndoTarget('checkout', runs).input.to.version, 'v2');
  });

  test('runs that did not promote, or are not rollouts, are no promotions', () => {
    const spec = parseCanarySpec({
      service: 'checkout',
      stable: { version: 'v1', targets: [url(8001)] },
      canary: { version: 'v2', targets: [url(8002)] },
    });
    for (const outcome of ['rolled_back', 'aborted', 'failed'] as const) {
      assert.equal(
        pastPromotion(runInfo('canaryRollout'), { spec }, result(outcome, { strategy: 'canary' })),
        null,
      );
    }
    assert.equal(pastPromotion(runInfo('fleetFreeze'), {}, result('promoted', { strategy: 'canary' })), null);
    assert.equal(pastPromotion(runInfo('canaryRollout'), { spec }, null), null);
    // A blue-green run that never learnt which environment was live.
    assert.equal(
      pastPromotion(
        runInfo('blueGreenRollout'),
        { spec: blueGreenSpec('v2') },
        result('promoted', { strategy: 'blue-green' }),
      ),
      null,
    );
  });
});

describe('checkUndoArguments', () => {
  test('refuses a bad service name, a bad version and control characters in the reason', () => {
    assert.throws(() => checkUndoArguments("x' OR 1=1", {}), UndoInputError);
    assert.throws(() => checkUndoArguments('checkout', { to: 'v 1' }), UndoInputError);
    assert.throws(() => checkUndoArguments('checkout', { reason: 'a\u001b[31m' }), UndoInputError);
    assert.doesNotThrow(() => checkUndoArguments('checkout', { to: 'v1.2', reason: 'bad deploy' }));
  });
});
