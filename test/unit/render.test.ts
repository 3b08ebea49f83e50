import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXIT, exitCodeFor } from '../../src/client/exit-codes';
import { progressLine, renderState } from '../../src/client/render';
import { initialSequentialState } from '../../src/analysis/sequential/judge';
import type { Decision, Outcome, RolloutState } from '../../src/workflows/state';

function decision(i: number, kind: Decision['kind'] = 'advance'): Decision {
  return {
    at: `2024-05-01T10:00:${String(i).padStart(2, '0')}.000Z`,
    kind,
    stage: 1,
    weight: 5,
    reason: `reason number ${i}`,
  };
}

function makeState(overrides: Partial<RolloutState> = {}): RolloutState {
  return {
    service: 'checkout',
    strategy: 'canary',
    environments: null,
    stableVersion: 'v1',
    canaryVersion: 'v2',
    phase: 'monitoring',
    stageIndex: 1,
    stageWeights: [1, 5, 10, 25, 50, 100],
    weights: { stable: 95, canary: 5 },
    paused: false,
    pauseReason: null,
    window: {
      stage: 1,
      startedAt: '2024-05-01T10:00:00.000Z',
      elapsedMs: 61_400,
      requiredMs: 300_000,
      maxMs: 900_000,
      polls: 2,
      holdingForInconclusive: false,
    },
    lastVerdict: {
      result: 'inconclusive',
      summary: 'only 42 of 100 canary requests needed for a verdict',
      checks: [],
      canary: { version: 'v2', requests: 42, errors: 0, p50Ms: 5, p99Ms: 20 },
      baseline: { version: 'v1', requests: 800, errors: 0, p50Ms: 5, p99Ms: 20 },
    },
    recentVerdicts: [],
    verdictCount: 2,
    analysis: initialSequentialState(),
    decisions: Array.from({ length: 8 }, (_, i) => decision(i + 1)),
    abortReason: null,
    outcome: null,
    details: '',
    startedAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:01:01.000Z',
    finishedAt: null,
    ...overrides,
  };
}

describe('exitCodeFor', () => {
  test('only a promotion exits 0', () => {
    assert.equal(exitCodeFor({ outcome: 'promoted' }), 0);
    assert.equal(exitCodeFor({ outcome: 'promoted' }), EXIT.promoted);
  });

  test('every other outcome, and no outcome yet, exits 1', () => {
    const others: Array<Outcome | null> = ['rolled_back', 'aborted', 'failed', null];
    for (const outcome of others) {
      assert.equal(exitCodeFor({ outcome }), 1, String(outcome));
      assert.equal(exitCodeFor({ outcome }), EXIT.notPromoted);
    }
  });
});

describe('renderState', () => {
  const text = renderState(makeState());
  const lines = text.split('\n');

  test('the header names service, versions, strategy and phase', () => {
    assert.equal(lines[0], 'checkout  v1 → v2  [canary]  phase: monitoring');
  });

  test('shows both weights with proportional bars', () => {
    assert.equal(lines[1], `  stable v1           ${'█'.repeat(19)}${'░'} 95%`);
    assert.equal(lines[2], `  canary v2           ${'█'}${'░'.repeat(19)} 5%`);
  });

  test('bars are empty at 0% and full at 100%', () => {
    const done = renderState(makeState({ weights: { stable: 0, canary: 100 } })).split('\n');
    assert.ok(done[1]!.endsWith(`${'░'.repeat(20)} 0%`), done[1]);
    assert.ok(done[2]!.endsWith(`${'█'.repeat(20)} 100%`), done[2]);
  });

  test('shows the stage, the window and the last verdict', () => {
    assert.ok(lines.includes('  stage 2/6 (weights 1 → 5 → 10 → 25 → 50 → 100)'), text);
    assert.ok(lines.includes('  window 61s of 300s (max 900s), 2 polls'), text);
    assert.ok(
      lines.includes('  last verdict: inconclusive: only 42 of 100 canary requests needed for a verdict'),
      text,
    );
  });

  test('names every unarmed check and what it waits for', () => {
    const base = makeState().lastVerdict!;
    const waiting = renderState(
      makeState({
        lastVerdict: {
          ...base,
          checks: [
            { name: 'error-rate', canary: 0, baseline: 0, limit: 200, passed: true, note: '' },
            {
              name: 'latency',
              canary: 20,
              baseline: 20,
              limit: 200,
              passed: null,
              note: '',
              unarmed: '12 of 100 canary requests judged for latency this stage',
            },
          ],
        },
      }),
    ).split('\n');
    assert.deepEqual(
      waiting.filter((l) => l.startsWith('  unarmed:')),
      ['  unarmed: latency: 12 of 100 canary requests judged for latency this stage'],
    );
    assert.ok(!lines.some((l) => l.startsWith('  unarmed:')), 'nothing when every check is armed');
  });

  test('shows only the last 5 decisions by default, oldest first', () => {
    const start = lines.indexOf('  decisions:');
    assert.notEqual(start, -1, text);
    const shown = lines.slice(start + 1);
    assert.deepEqual(
      shown,
      [4, 5, 6, 7, 8].map((i) => `    2024-05-01T10:00:0${i}.000Z  advance    reason number ${i}`),
    );
    assert.ok(!text.includes('reason number 3'));
  });

  test('the number of recent decisions is configurable', () => {
    const ten = renderState(makeState(), 10);
    for (let i = 1; i <= 8; i++) assert.ok(ten.includes(`reason number ${i}`), `decision ${i}`);
    const two = renderState(makeState(), 2);
    assert.ok(two.includes('reason number 7') && two.includes('reason number 8'));
    assert.ok(!two.includes('reason number 6'));
  });

  test('asking for 0 recent decisions shows none', () => {
    assert.ok(!renderState(makeState(), 0).includes('reason number'));
  });

  test('marks a paused rollout and a finished outcome with its reason', () => {
    const paused = renderState(makeState({ paused: true, phase: 'paused' }));
    assert.match(paused.split('\n')[0]!, /phase: paused \(PAUSED\)$/);

    const aborted = renderState(
      makeState({ phase: 'rolled-back', outcome: 'aborted', abortReason: 'operator said so', window: null }),
    );
    assert.ok(aborted.includes('  outcome: aborted (operator said so)'), aborted);
    assert.ok(!aborted.includes('window '));
  });

  test('before the first stage there is no stage line, and no decisions is just the heading', () => {
    const fresh = renderState(
      makeState({ stageIndex: -1, window: null, lastVerdict: null, decisions: [], phase: 'starting' }),
    );
    assert.ok(!fresh.includes('stage '));
    assert.ok(!fresh.includes('last verdict'));
    assert.ok(fresh.endsWith('\n  decisions:'), fresh);
  });
});

describe('progressLine', () => {
  test('shows phase, canary weight, window and the last verdict', () => {
    assert.equal(
      progressLine(makeState()),
      '[monitoring] canary 5% window 61/300s · inconclusive: only 42 of 100 canary requests needed for a verdict',
    );
  });

  test('marks a pause and omits what is absent', () => {
    assert.equal(
      progressLine(
        makeState({ paused: true, window: null, lastVerdict: null, weights: { stable: 75, canary: 25 } }),
      ),
      '[monitoring, paused] canary 25%',
    );
  });

  test('changes when the window advances', () => {
    const a = progressLine(makeState());
    const b = progressLine(makeState({ window: { ...makeState().window!, elapsedMs: 91_000 } }));
    assert.notEqual(a, b);
    assert.match(b, /window 91\/300s/);
  });
});

describe('render: deploy windows and migrations', () => {
  const gate = {
    reason: 'outside-window' as const,
    label: 'waiting for deploy window (opens Mon 09:00 Europe/Berlin)',
    opensAt: '2026-12-07T08:00:00.000Z',
    since: '2026-12-05T10:00:00.000Z',
    before: 'stage 3 (25%)',
  };

  test('status and watch say what the rollout waits for, and before what', () => {
    const state = makeState({ phase: 'waiting-for-window', window: null, gate });
    assert.match(
      renderState(state),
      /\n {2}waiting for deploy window \(opens Mon 09:00 Europe\/Berlin\) · before stage 3 \(25%\)\n/,
    );
    assert.match(
      progressLine(state),
      /^\[waiting-for-window\] .* · waiting for deploy window \(opens Mon 09:00/,
    );
  });

  test('the migration phase shows, with what each step applied and when contract runs', () => {
    const state = makeState({
      phase: 'awaiting-contract',
      window: null,
      migration: {
        phase: 'awaiting-contract',
        hasContract: true,
        expand: { applied: ['db/001.sql'], skipped: ['db/000.sql'] },
        contract: null,
        contractAt: '2026-12-05T11:00:00.000Z',
      },
    });
    assert.match(
      renderState(state),
      /migrations: awaiting-contract \(contract at 2026-12-05T11:00:00.000Z\) · expand: 1 applied, 1 already applied/,
    );
    assert.match(progressLine(state), / · migrations awaiting-contract/);
    assert.doesNotMatch(renderState(makeState()), /migrations:|deploy window/);
  });
});

test('an undo says what it takes out, what it puts back, how and why', () => {
  const state = makeState({
    phase: 'undoing',
    window: null,
    undo: { reason: 'checkout errors after v2', from: 'v2', to: 'v1', method: 'switch' },
  });
  assert.match(renderState(state), /\n {2}undo: v2 → v1 \(switch\): checkout errors after v2\n/);
  assert.doesNotMatch(renderState(makeState()), /undo:/);
});
