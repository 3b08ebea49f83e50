import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../bench/analysis/random';
import {
  initialLatencyBounds,
  latencyTolerance,
  offerReference,
  requestedBounds,
  startLatencyStage,
} from '../../src/analysis/sequential/latency-bounds';
import { initialSequentialState, judgeSequential, startStage } from '../../src/analysis/sequential/judge';
import { intervalLogLR, logFactorial, ODDS_RATIOS } from '../../src/analysis/sequential/odds-ratio-test';
import type { CheckEvidence, Verdict, VersionMetrics } from '../../src/analysis/types';
import { type AnalysisConfig, DEFAULT_ANALYSIS } from '../../src/spec/analysis';
import { initialState } from '../../src/workflows/initial-state';

const config: AnalysisConfig = DEFAULT_ANALYSIS;
const tolerance = latencyTolerance(config);

/** Brute force: ln( ψ^x / Σ_y h(y) ψ^y ) with the hypergeometric pmf summed term by term. */
function bruteForceLogLR(nc: number, nb: number, x: number, s: number, psi: number): number {
  const choose = (n: number, k: number): number => {
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return r;
  };
  let h0 = 0;
  let tilted = 0;
  for (let y = Math.max(0, s - nb); y <= Math.min(nc, s); y++) {
    const t = choose(nc, y) * choose(nb, s - y);
    h0 += t;
    tilted += t * psi ** y;
  }
  return x * Math.log(psi) - Math.log(tilted / h0);
}

describe('the conditional odds-ratio test', () => {
  test('ln n! matches the exact sum on both sides of the Stirling switch', () => {
    for (const n of [0, 1, 10, 256, 257, 300, 1000]) {
      let exact = 0;
      for (let i = 2; i <= n; i++) exact += Math.log(i);
      assert.ok(Math.abs(logFactorial(n) - exact) < 1e-9 * Math.max(1, exact), `n = ${n}`);
    }
  });

  test('each interval likelihood ratio is the exact Fisher noncentral hypergeometric one', () => {
    for (const [nc, nb, x, s] of [
      [10, 90, 3, 5],
      [40, 60, 30, 50],
      [5, 5, 5, 5],
      [120, 30, 10, 40],
      [60, 140, 30, 100],
    ] as const) {
      const got = intervalLogLR({
        canaryRequests: nc,
        baselineRequests: nb,
        canarySlow: x,
        baselineSlow: s - x,
      });
      ODDS_RATIOS.forEach((psi, k) =>
        assert.ok(
          Math.abs((got[k] as number) - bruteForceLogLR(nc, nb, x, s, psi)) < 1e-7,
          `${nc},${nb},${x},${s} ψ=${psi}`,
        ),
      );
    }
  });

  test('an interval with no slow requests, or only slow ones, says nothing', () => {
    for (const counts of [
      { canaryRequests: 10, baselineRequests: 90, canarySlow: 0, baselineSlow: 0 },
      { canaryRequests: 10, baselineRequests: 90, canarySlow: 10, baselineSlow: 90 },
      { canaryRequests: 0, baselineRequests: 90, canarySlow: 0, baselineSlow: 9 },
    ])
      assert.ok(intervalLogLR(counts).every((v) => v === 0));
  });

  test('estimates that disagree (slow > requests, as extrapolated counts may) are clamped, not NaN', () => {
    const got = intervalLogLR({
      canaryRequests: 10,
      baselineRequests: 90,
      canarySlow: 12.4,
      baselineSlow: -1,
    });
    assert.ok(got.every(Number.isFinite));
  });
});

const arm = (
  version: string,
  requests: number,
  p50Ms: number | null,
  p99Ms: number | null,
  slow?: number[],
) =>
  ({
    version,
    requests,
    errors: 0,
    p50Ms,
    p99Ms,
    ...(slow === undefined ? {} : { slowCounts: slow }),
  }) satisfies VersionMetrics;

const latencyCheck = (verdict: Verdict): CheckEvidence => {
  const found = verdict.checks.find((c) => c.name === 'latency');
  assert.ok(found);
  return found;
};

/**
 * A stage polled `polls` times; each interval adds `perPoll` requests per version, of which a share
 * is slower than each bound the judge asked for (`slowShare(bound)` per version).
 */
function runStage(options: {
  polls: number;
  canaryPerPoll: number;
  baselinePerPoll: number;
  canarySlowShare: (boundMs: number) => number;
  baselineSlowShare: (boundMs: number) => number;
  baselineP50: number;
  baselineP99: number;
  reportsSlowCounts?: boolean;
  minCanaryRequests?: number;
  analysis?: Partial<AnalysisConfig>;
  state?: ReturnType<typeof initialSequentialState>;
}) {
  let state = startStage(options.state ?? initialSequentialState());
  const cum = { c: 0, b: 0, cs: [] as number[], bs: [] as number[] };
  const verdicts: Verdict[] = [];
  for (let i = 0; i < options.polls; i++) {
    const bounds = state.latencyBounds ? requestedBounds(state.latencyBounds, tolerance) : null;
    cum.c += options.canaryPerPoll;
    cum.b += options.baselinePerPoll;
    if (bounds) {
      // Counts at the bounds are cumulative over the stage, as a provider reports them.
      cum.cs = bounds.map((b) => Math.round(cum.c * options.canarySlowShare(b)));
      cum.bs = bounds.map((b) => Math.round(cum.b * options.baselineSlowShare(b)));
    }
    const reports = options.reportsSlowCounts !== false && bounds !== null;
    const judged = judgeSequential({
      state,
      canary: arm('v2', cum.c, null, null, reports ? cum.cs : undefined),
      baseline: arm('v1', cum.b, options.baselineP50, options.baselineP99, reports ? cum.bs : undefined),
      config: { ...config, ...options.analysis },
      minCanaryRequests: options.minCanaryRequests ?? 100,
    });
    state = judged.state;
    verdicts.push(judged.verdict);
    if (judged.verdict.result === 'fail') break;
  }
  return { state, verdicts, last: verdicts[verdicts.length - 1] as Verdict };
}

describe('latency is always judged (revision 2)', () => {
  // The case: ~7 requests/s in all, a canary 100× slower than stable and no errors.
  const slowCanary = { canarySlowShare: () => 1, baselineSlowShare: (b: number) => (b <= 3 ? 0.5 : 0.01) };

  test('a 100× slower canary at ~7 requests/s is rolled back, though no baseline p99 was chosen beforehand', () => {
    const { last, verdicts } = runStage({
      polls: 8,
      canaryPerPoll: 17,
      baselinePerPoll: 53,
      baselineP50: 3,
      baselineP99: 3.2,
      ...slowCanary,
    });
    assert.equal(last.result, 'fail', JSON.stringify(last.summary));
    assert.match(last.summary, /^latency: /);
    // Armed on the first poll's baseline, one interval to take its reading, then one judged interval.
    assert.ok(verdicts.length <= 3, `rolled back after ${verdicts.length} polls`);
  });

  test('with a reference from before the rollout, it is rolled back at the first poll', () => {
    let state = initialSequentialState();
    state = {
      ...state,
      latencyBounds: offerReference(state.latencyBounds!, arm('v1', 2000, 3, 3.2), 'before the rollout'),
    };
    const { last, verdicts } = runStage({
      state,
      polls: 8,
      canaryPerPoll: 17,
      baselinePerPoll: 53,
      baselineP50: 3,
      baselineP99: 3.2,
      ...slowCanary,
    });
    assert.equal(last.result, 'fail');
    assert.equal(verdicts.length, 1);
    assert.match(latencyCheck(last).note, /from 2000 requests, before the rollout/);
  });

  test('a stage never passes while the slow bounds are unchosen: no baseline latency yet', () => {
    const { verdicts } = runStage({
      polls: 20,
      canaryPerPoll: 50,
      baselinePerPoll: 500,
      baselineP50: null as unknown as number,
      baselineP99: null as unknown as number,
      canarySlowShare: () => 0.5,
      baselineSlowShare: () => 0.5,
    });
    assert.ok(verdicts.every((v) => v.result === 'inconclusive'));
    const last = verdicts[verdicts.length - 1] as Verdict;
    assert.match(last.summary, /^latency check unarmed: waiting for baseline latency/);
    assert.equal(latencyCheck(last).passed, null);
  });

  test('a stage never passes when the metrics source counts no slow requests, and says why', () => {
    const { verdicts } = runStage({
      polls: 20,
      canaryPerPoll: 50,
      baselinePerPoll: 500,
      baselineP50: 10,
      baselineP99: 50,
      canarySlowShare: () => 0.5,
      baselineSlowShare: () => 0.5,
      reportsSlowCounts: false,
    });
    assert.ok(verdicts.every((v) => v.result === 'inconclusive'));
    assert.match(latencyCheck(verdicts[19] as Verdict).unarmed ?? '', /reports no slow-request counts/);
  });

  test('latency: off passes on errors alone and the verdict says latency was not judged', () => {
    const { last } = runStage({
      polls: 5,
      canaryPerPoll: 50,
      baselinePerPoll: 500,
      baselineP50: 10,
      baselineP99: 50,
      canarySlowShare: () => 1,
      baselineSlowShare: () => 0.01,
      reportsSlowCounts: false,
      analysis: { latency: 'off' },
    });
    assert.equal(last.result, 'pass');
    assert.equal(latencyCheck(last).note, 'not judged: analysis.latency is off in the spec');
  });

  test('a canary like stable passes once the latency test has judged minCanaryRequests', () => {
    const share = (b: number) => (b <= 10 ? 0.5 : 0.01);
    const { verdicts, last } = runStage({
      polls: 10,
      canaryPerPoll: 30,
      baselinePerPoll: 300,
      baselineP50: 10,
      baselineP99: 50,
      canarySlowShare: share,
      baselineSlowShare: share,
    });
    assert.equal(last.result, 'pass');
    // Armed at poll 1, its reading at poll 2, judged from poll 3: 30 canary requests per poll.
    const firstPass = verdicts.findIndex((v) => v.result === 'pass');
    assert.equal(firstPass, 5, verdicts.map((v) => v.summary).join('\n'));
  });

  test('the bounds are the baseline p50 and p99 of the reference, fixed within a stage', () => {
    let bounds = startLatencyStage(
      offerReference(initialLatencyBounds(null), arm('v1', 500, 20, 80), 'stage 1'),
    );
    assert.deepEqual(bounds.boundsMs, [20, 80]);
    // A larger reading becomes the reference for the next stage; a smaller one never does.
    bounds = offerReference(bounds, arm('v1', 300, 30, 90), 'stage 2');
    assert.equal(bounds.reference?.requests, 500);
    bounds = offerReference(bounds, arm('v1', 5000, 25, 85), 'stage 2');
    assert.deepEqual(bounds.boundsMs, [20, 80]);
    assert.deepEqual(startLatencyStage(bounds).boundsMs, [25, 85]);
    assert.deepEqual(startLatencyStage(initialLatencyBounds(250)).boundsMs, [250]);
  });

  test('an identical canary rolls back in at most α/2 of rollouts on latency, however often it is checked', () => {
    // 1500 A/A rollouts, 3 stages × 20 polls, random traffic; slow counts drawn per interval.
    const rng = new Rng(20261201);
    let falseRollbacks = 0;
    const runs = 1500;
    for (let run = 0; run < runs; run++) {
      let state = initialSequentialState();
      const rps = [2, 20, 200][run % 3] as number;
      let failed = false;
      for (let stage = 0; stage < 3 && !failed; stage++) {
        state = startStage(state);
        const share = [0.05, 0.25, 0.5][stage] as number;
        const cum = { c: 0, b: 0, cs: [0, 0, 0, 0], bs: [0, 0, 0, 0] };
        for (let poll = 0; poll < 20 && !failed; poll++) {
          const bounds = state.latencyBounds ? requestedBounds(state.latencyBounds, tolerance) : null;
          const nc = rng.poisson(rps * share * 10);
          const nb = rng.poisson(rps * (1 - share) * 10);
          cum.c += nc;
          cum.b += nb;
          // Each version 50% above its p50 bound and 1% above its p99 one: a canary exactly at the
          // tolerance, the hardest case of H0.
          const shares = [0.5, 0.01, 0.5, 0.01];
          if (bounds) {
            for (let k = 0; k < bounds.length; k++) {
              cum.cs[k] = (cum.cs[k] as number) + rng.binomial(nc, shares[k] as number);
              cum.bs[k] = (cum.bs[k] as number) + rng.binomial(nb, shares[k] as number);
            }
          }
          const judged = judgeSequential({
            state,
            canary: arm('v2', cum.c, 10, 50, bounds ? [...cum.cs] : undefined),
            baseline: arm('v1', cum.b, 10, 50, bounds ? [...cum.bs] : undefined),
            config,
            minCanaryRequests: 100,
          });
          state = judged.state;
          failed = judged.verdict.result === 'fail';
        }
      }
      if (failed) falseRollbacks++;
    }
    assert.ok(falseRollbacks / runs <= config.alpha / 2, `${falseRollbacks} of ${runs}`);
  });
});

describe('analysis.latency: off is recorded in the state', () => {
  test('as a config decision before anything else, so status and the Web UI show it', () => {
    const seed = {
      service: 'checkout',
      strategy: 'canary' as const,
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stageWeights: [100],
    };
    const off = initialState({ ...seed, analysis: { ...config, latency: 'off' } });
    assert.equal(off.decisions[0]?.kind, 'config');
    assert.match(off.decisions[0]?.reason ?? '', /analysis\.latency is off/);
    assert.deepEqual(initialState({ ...seed, analysis: config }).decisions, []);
  });
});

describe('a small reference is refined once mid-stage', () => {
  test('when the stage baseline grows 10× past the reading that chose the bounds, at the cost of one interval', () => {
    let state = initialSequentialState();
    state = {
      ...state,
      latencyBounds: offerReference(state.latencyBounds!, arm('v1', 40, 5, 9), 'before the rollout'),
    };
    state = startStage(state);
    assert.deepEqual(state.latencyBounds?.boundsMs, [5, 9]);
    const bounds = () => requestedBounds(state.latencyBounds!, tolerance)!;
    // Poll 1: 100 baseline requests (2.5× the reference): no change. Poll 2: 400 (10×): refined.
    for (const [i, baselineRequests] of [100, 400].entries()) {
      const judged = judgeSequential({
        state,
        canary: arm(
          'v2',
          10 * (i + 1),
          6,
          10,
          bounds().map(() => 0),
        ),
        baseline: arm(
          'v1',
          baselineRequests,
          6,
          12,
          bounds().map(() => 0),
        ),
        config,
        minCanaryRequests: 1,
      });
      state = judged.state;
    }
    assert.deepEqual(state.latencyBounds?.boundsMs, [6, 12]);
    assert.equal(state.latencyBounds?.skipNext, true);
    assert.match(state.latencyBounds?.boundsReference?.source ?? '', /this stage/);
  });
});
