import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  initialSequentialState,
  judgeSequential,
  startStage,
  type SequentialState,
} from '../../src/analysis/sequential/judge';
import { emptyMixture, logBayesFactor, updateMixture } from '../../src/analysis/sequential/mixture-test';
import type { VersionMetrics } from '../../src/analysis/types';
import { type AnalysisConfig, DEFAULT_ANALYSIS } from '../../src/spec/analysis';
import { Rng } from '../../bench/analysis/random';

// The shipped defaults: α = 1%, sequential mode.
const config: AnalysisConfig = DEFAULT_ANALYSIS;

const metrics = (
  version: string,
  requests: number,
  errors: number,
  extra: Partial<VersionMetrics> = {},
): VersionMetrics => ({
  version,
  requests,
  errors,
  p50Ms: 10,
  p99Ms: 50,
  ...extra,
});

/** Feeds a sequence of per-poll increments (cumulative per stage) and returns every verdict. */
function run(
  polls: { canary: [number, number]; baseline: [number, number] }[],
  minCanaryRequests = 1,
  state: SequentialState = initialSequentialState(),
) {
  const cum = { cr: 0, ce: 0, br: 0, be: 0 };
  const results: string[] = [];
  for (const p of polls) {
    cum.cr += p.canary[0];
    cum.ce += p.canary[1];
    cum.br += p.baseline[0];
    cum.be += p.baseline[1];
    const judged = judgeSequential({
      state,
      canary: metrics('v2', cum.cr, cum.ce),
      baseline: metrics('v1', cum.br, cum.be),
      config,
      minCanaryRequests,
    });
    state = judged.state;
    results.push(judged.verdict.result);
  }
  return { results, state };
}

describe('the mixture test', () => {
  test('evidence grows with canary events and shrinks with baseline events', () => {
    const a = updateMixture(emptyMixture(), 5, 1, 0.1);
    const more = updateMixture(emptyMixture(), 6, 1, 0.1);
    const baselineHeavy = updateMixture(emptyMixture(), 5, 20, 0.1);
    assert.ok(logBayesFactor(more) > logBayesFactor(a));
    assert.ok(logBayesFactor(baselineHeavy) < logBayesFactor(a));
  });

  test('a 0-error baseline and one canary error at 1% traffic is not enough to reject', () => {
    const s = updateMixture(emptyMixture(), 1, 0, 0.01);
    assert.ok(Math.exp(logBayesFactor(s)) < 2 / config.alpha);
  });

  test('events split exactly like the traffic give no evidence of a regression', () => {
    const s = updateMixture(emptyMixture(), 10, 90, 0.1);
    assert.ok(logBayesFactor(s) < 0);
  });
});

describe('judgeSequential (properties)', () => {
  test('an identical canary rolls back in at most α of rollouts, however often it is checked', () => {
    // 2000 A/A rollouts of 60 polls each at 0.5% errors; Ville's inequality bounds false rejections by α.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const rng = new Rng(seed);
        let falseAlarms = 0;
        const rollouts = 2000;
        for (let r = 0; r < rollouts; r++) {
          let state = initialSequentialState();
          const share = [0.01, 0.05, 0.1, 0.25, 0.5][r % 5] as number;
          const cum = { cr: 0, ce: 0, br: 0, be: 0 };
          for (let poll = 0; poll < 60; poll++) {
            const cr = rng.poisson(200 * share);
            const br = rng.poisson(200 * (1 - share));
            cum.cr += cr;
            cum.br += br;
            cum.ce += rng.binomial(cr, 0.005);
            cum.be += rng.binomial(br, 0.005);
            const judged = judgeSequential({
              state,
              canary: metrics('v2', cum.cr, cum.ce),
              baseline: metrics('v1', cum.br, cum.be),
              config,
              minCanaryRequests: 1,
            });
            state = judged.state;
            if (judged.verdict.result === 'fail') {
              falseAlarms++;
              break;
            }
          }
        }
        // α = 1%, plus three standard errors of sampling slack over 2000 rollouts.
        return (
          falseAlarms / rollouts <=
          config.alpha + 3 * Math.sqrt((config.alpha * (1 - config.alpha)) / rollouts)
        );
      }),
      { numRuns: 5 },
    );
  });

  test('more canary errors never turn a fail into a pass', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cr: fc.integer({ min: 0, max: 500 }),
            ce: fc.integer({ min: 0, max: 50 }),
            br: fc.integer({ min: 1, max: 5000 }),
            be: fc.integer({ min: 0, max: 50 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.integer({ min: 1, max: 100 }),
        (polls, extra) => {
          const clean = polls.map((p) => ({
            canary: [p.cr + p.ce, p.ce] as [number, number],
            baseline: [p.br + p.be, p.be] as [number, number],
          }));
          const worse = clean.map((p, i) =>
            i === clean.length - 1
              ? { ...p, canary: [p.canary[0] + extra, p.canary[1] + extra] as [number, number] }
              : p,
          );
          const before = run(clean).results.at(-1);
          const after = run(worse).results.at(-1);
          return before !== 'fail' || after === 'fail';
        },
      ),
      { numRuns: 300 },
    );
  });

  test('fewer than the minimum canary requests is never a pass', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 50 }),
        (cr, br, be) => {
          const { verdict } = judgeSequential({
            state: initialSequentialState(),
            canary: metrics('v2', cr, 0),
            baseline: metrics('v1', br, Math.min(be, br)),
            config,
            minCanaryRequests: 100,
          });
          return verdict.result !== 'pass';
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('judgeSequential (examples)', () => {
  test('a 50% error canary at 1% traffic fails on its first poll, before the minimum sample', () => {
    const { results } = run([{ canary: [10, 5], baseline: [990, 1] }], 100);
    assert.deepEqual(results, ['fail']);
  });

  test('the verdict carries the evidence: counts, Bayes factor and its limit', () => {
    const judged = judgeSequential({
      state: initialSequentialState(),
      canary: metrics('v2', 10, 5),
      baseline: metrics('v1', 990, 1),
      config,
      minCanaryRequests: 100,
    });
    const check = judged.verdict.checks.find((c) => c.name === 'error-rate');
    assert.equal(check?.passed, false);
    assert.equal(check?.limit, 200);
    assert.ok((check?.statistic ?? 0) >= 200);
    assert.match(check?.note ?? '', /Bayes factor/);
  });

  test('evidence carries across stages while the counters restart', () => {
    const first = run([{ canary: [20, 2], baseline: [980, 1] }]);
    const carried = startStage(first.state);
    assert.equal(carried.previous, null);
    assert.deepEqual(carried.errors, first.state.errors);
    // The new stage's first reading counts from zero, not as a drop from the previous stage's totals.
    const next = run([{ canary: [50, 0], baseline: [950, 0] }], 1, carried);
    assert.equal(next.state.intervals, first.state.intervals + 1);
  });

  test('revision 1 (older histories): the one-bound latency test rejects a canary much more often slow', () => {
    let state = initialSequentialState(100);
    let verdict = '';
    const cum = { c: 0, cs: 0, b: 0, bs: 0 };
    for (let i = 0; i < 10 && verdict !== 'fail'; i++) {
      cum.c += 100;
      cum.cs += 10;
      cum.b += 900;
      cum.bs += 9;
      const judged = judgeSequential({
        state,
        canary: metrics('v2', cum.c, 0, { slowRequests: cum.cs }),
        baseline: metrics('v1', cum.b, 0, { slowRequests: cum.bs }),
        config,
        minCanaryRequests: 1,
        revision: 1,
      });
      state = judged.state;
      verdict = judged.verdict.result;
    }
    assert.equal(verdict, 'fail');
  });

  test('hard resource limits fail at any sample size', () => {
    const { verdict } = judgeSequential({
      state: initialSequentialState(),
      canary: metrics('v2', 0, 0, { cpuPercent: 95 }),
      baseline: metrics('v1', 0, 0),
      config,
      minCanaryRequests: 100,
    });
    assert.equal(verdict.result, 'fail');
  });
});
