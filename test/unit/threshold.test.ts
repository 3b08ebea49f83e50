import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgePostSwitch } from '../../src/analysis/post-switch';
import { judgeThreshold, type ThresholdInput } from '../../src/analysis/threshold';
import type { CheckEvidence, Verdict, VersionMetrics } from '../../src/analysis/types';
import { analysisSchema, type AnalysisConfig } from '../../src/spec/analysis';

const defaults: AnalysisConfig = analysisSchema.parse({});

function metrics(
  version: string,
  requests: number,
  errors: number,
  p99Ms: number | null = 100,
): VersionMetrics {
  return { version, requests, errors, p50Ms: p99Ms === null ? null : p99Ms / 2, p99Ms };
}

function judge(
  canary: Partial<VersionMetrics>,
  baseline: Partial<VersionMetrics> = {},
  options: { config?: Partial<AnalysisConfig>; minCanaryRequests?: number } = {},
): Verdict {
  const input: ThresholdInput = {
    canary: { ...metrics('v2', 1000, 0), ...canary },
    baseline: { ...metrics('v1', 10_000, 0), ...baseline },
    config: { ...defaults, ...options.config },
    minCanaryRequests: options.minCanaryRequests ?? 100,
  };
  return judgeThreshold(input);
}

function check(verdict: Verdict, name: string): CheckEvidence {
  const found = verdict.checks.find((c) => c.name === name);
  assert.ok(found, `no check named ${name} in ${verdict.checks.map((c) => c.name).join(', ')}`);
  return found;
}

describe('judgeThreshold: defaults', () => {
  test('the analysis defaults are the documented ones', () => {
    assert.equal(defaults.maxErrorRateRatio, 1.5);
    assert.equal(defaults.minErrorRateDelta, 0.01);
    assert.equal(defaults.maxP99Ratio, 1.2);
    assert.equal(defaults.minP99DeltaMs, 50);
    assert.equal(defaults.maxCpuPercent, 90);
    assert.equal(defaults.maxMemoryPercent, 90);
  });

  test('a healthy canary with enough requests passes, with every check recorded', () => {
    const verdict = judge(
      { requests: 500, errors: 0, p99Ms: 110 },
      { requests: 5000, errors: 5, p99Ms: 100 },
    );
    assert.equal(verdict.result, 'pass');
    assert.match(verdict.summary, /within limits over 500 requests/);
    assert.deepEqual(
      verdict.checks.map((c) => [c.name, c.passed]),
      [
        ['error-rate', true],
        ['p99-latency', true],
        ['sample-size', true],
      ],
    );
    assert.equal(verdict.canary.requests, 500);
    assert.equal(verdict.baseline.requests, 5000);
  });
});

describe('judgeThreshold: sample size', () => {
  test('below minCanaryRequests is inconclusive, even at 100% canary errors', () => {
    const verdict = judge({ requests: 99, errors: 99, p99Ms: 5000 });
    assert.equal(verdict.result, 'inconclusive');
    assert.match(verdict.summary, /only 99 of 100 canary requests/);
    // The evidence still shows the failing rules, so the operator sees what is coming.
    assert.equal(check(verdict, 'error-rate').passed, false);
    // A p99 over 99 requests is just the slowest one: not judged until there are 100.
    assert.equal(check(verdict, 'p99-latency').passed, null);
    assert.match(check(verdict, 'p99-latency').note, /p99 needs 100 requests/);
    assert.deepEqual(check(verdict, 'sample-size'), {
      name: 'sample-size',
      canary: 99,
      baseline: 10_000,
      limit: 100,
      passed: false,
      note: 'canary requests needed before any verdict on rates',
    });
  });

  test('zero canary requests is inconclusive, not a pass', () => {
    const verdict = judge({ requests: 0, errors: 0, p99Ms: null });
    assert.equal(verdict.result, 'inconclusive');
    assert.equal(check(verdict, 'error-rate').canary, 0);
  });

  test('reaching exactly minCanaryRequests gives a verdict', () => {
    assert.equal(judge({ requests: 100, errors: 0 }).result, 'pass');
    assert.equal(judge({ requests: 100, errors: 100 }).result, 'fail');
    const off = { config: { latency: 'off' as const }, minCanaryRequests: 50 };
    assert.equal(judge({ requests: 49, errors: 0 }, {}, off).result, 'inconclusive');
    assert.equal(judge({ requests: 50, errors: 0 }, {}, off).result, 'pass');
  });

  test('below the requests a p99 needs, the latency check is unarmed and nothing passes', () => {
    const verdict = judge({ requests: 50, errors: 0 }, {}, { minCanaryRequests: 50 });
    assert.equal(verdict.result, 'inconclusive');
    assert.equal(check(verdict, 'p99-latency').unarmed, 'p99 needs 100 requests on both sides');
    assert.match(verdict.summary, /^p99-latency check unarmed: p99 needs 100 requests/);
  });

  test('revision 1 (older histories) let an unarmed p99 check pass, and still does on replay', () => {
    const input: ThresholdInput = {
      canary: metrics('v2', 50, 0),
      baseline: metrics('v1', 10_000, 0),
      config: defaults,
      minCanaryRequests: 50,
      revision: 1,
    };
    assert.equal(judgeThreshold(input).result, 'pass');
  });

  test('hard limits fail regardless of the sample size', () => {
    const cpu = judge({ requests: 0, errors: 0, cpuPercent: 95 });
    assert.equal(cpu.result, 'fail');
    assert.match(cpu.summary, /^hard limit exceeded: cpu 95 > limit 90/);
    assert.deepEqual(check(cpu, 'cpu'), {
      name: 'cpu',
      canary: 95,
      baseline: null,
      limit: 90,
      passed: false,
      note: 'hard limit',
      hard: true,
    });

    const memory = judge({ requests: 3, errors: 0, memoryPercent: 97.5 });
    assert.equal(memory.result, 'fail');
    assert.match(memory.summary, /memory 97\.5 > limit 90/);
  });

  test('hard limits at the limit, or absent, do not fail', () => {
    const atLimit = judge({ requests: 500, cpuPercent: 90, memoryPercent: 90 });
    assert.equal(atLimit.result, 'pass');
    assert.equal(check(atLimit, 'cpu').passed, true);
    assert.equal(check(atLimit, 'memory').passed, true);

    const absent = judge({ requests: 500, cpuPercent: null, memoryPercent: undefined });
    assert.equal(absent.result, 'pass');
    assert.ok(!absent.checks.some((c) => c.name === 'cpu' || c.name === 'memory'));
  });

  test('configured hard limits are honoured', () => {
    const verdict = judge({ requests: 500, cpuPercent: 60 }, {}, { config: { maxCpuPercent: 50 } });
    assert.equal(verdict.result, 'fail');
    assert.equal(check(verdict, 'cpu').limit, 50);
  });
});

describe('judgeThreshold: error rate', () => {
  test('0-error baseline and 1 canary error in 100 requests is not a fail (absolute floor 0.01)', () => {
    const verdict = judge({ requests: 100, errors: 1 }, { requests: 10_000, errors: 0 });
    assert.equal(verdict.result, 'pass');
    const errorRate = check(verdict, 'error-rate');
    assert.equal(errorRate.canary, 0.01);
    assert.equal(errorRate.baseline, 0);
    assert.equal(errorRate.limit, 0.01);
    assert.equal(errorRate.passed, true);
  });

  test('2 canary errors in 100 against a clean baseline fails', () => {
    const verdict = judge({ requests: 100, errors: 2 }, { requests: 10_000, errors: 0 });
    assert.equal(verdict.result, 'fail');
    assert.equal(check(verdict, 'error-rate').passed, false);
  });

  test('5% canary vs 0.1% baseline over 200 requests fails on error-rate with the numbers', () => {
    const verdict = judge({ requests: 200, errors: 10 }, { requests: 1000, errors: 1 });
    assert.equal(verdict.result, 'fail');
    const errorRate = check(verdict, 'error-rate');
    assert.equal(errorRate.canary, 0.05);
    assert.equal(errorRate.baseline, 0.001);
    // max(1.5 × 0.001, 0.001 + 0.01)
    assert.equal(errorRate.limit, 0.011);
    assert.equal(errorRate.passed, false);
    assert.match(errorRate.note, /canary 10\/200, baseline 1\/1000/);
    assert.equal(verdict.summary, 'error-rate 0.05 > limit 0.011 (baseline 0.001)');
    assert.equal(check(verdict, 'p99-latency').passed, true);
  });

  test('with a noisy baseline the relative margin (1.5×) is the limit', () => {
    // baseline 10%: limit max(0.15, 0.11) = 0.15
    const within = judge({ requests: 1000, errors: 150 }, { requests: 1000, errors: 100 });
    assert.equal(check(within, 'error-rate').limit, 0.15);
    assert.equal(within.result, 'pass');
    const over = judge({ requests: 1000, errors: 151 }, { requests: 1000, errors: 100 });
    assert.equal(over.result, 'fail');
  });

  test('a baseline with no requests counts as a 0% error rate', () => {
    const verdict = judge(
      { requests: 200, errors: 1 },
      { requests: 0, errors: 0, p99Ms: null },
      { config: { latency: 'off' } },
    );
    assert.equal(check(verdict, 'error-rate').baseline, 0);
    assert.equal(verdict.result, 'pass');
  });

  test('more canary errors never turn a fail into a pass', () => {
    for (const requests of [100, 137, 200, 1000]) {
      for (const baselineErrors of [0, 1, 7, 50, 300]) {
        let firstFail: number | undefined;
        for (let errors = 0; errors <= requests; errors++) {
          const { result } = judge({ requests, errors }, { requests: 1000, errors: baselineErrors });
          assert.notEqual(result, 'inconclusive');
          if (result === 'fail') firstFail ??= errors;
          else
            assert.equal(
              firstFail,
              undefined,
              `requests ${requests}, baseline ${baselineErrors}/1000: fail at ${firstFail} errors, ${result} at ${errors}`,
            );
        }
        // Every canary that errs on every request must fail.
        assert.ok(firstFail !== undefined && firstFail <= requests);
      }
    }
  });

  test('more baseline errors never turn a pass into a fail', () => {
    let lastPass: number | undefined;
    for (let baselineErrors = 0; baselineErrors <= 1000; baselineErrors += 5) {
      const { result } = judge({ requests: 200, errors: 20 }, { requests: 1000, errors: baselineErrors });
      if (result === 'pass') lastPass = baselineErrors;
      else
        assert.equal(
          lastPass,
          undefined,
          `pass at baseline ${lastPass} errors, ${result} at ${baselineErrors}`,
        );
    }
    assert.notEqual(lastPass, undefined);
  });
});

describe('judgeThreshold: p99 latency', () => {
  test('p99 300ms against a 100ms baseline fails on p99-latency', () => {
    const verdict = judge({ requests: 500, p99Ms: 300 }, { p99Ms: 100 });
    assert.equal(verdict.result, 'fail');
    const latency = check(verdict, 'p99-latency');
    assert.equal(latency.canary, 300);
    assert.equal(latency.baseline, 100);
    // max(1.2 × 100, 100 + 50)
    assert.equal(latency.limit, 150);
    assert.equal(latency.passed, false);
    assert.equal(check(verdict, 'error-rate').passed, true);
    assert.equal(verdict.summary, 'p99-latency 300 > limit 150 (baseline 100)');
  });

  test('p99 130ms against 100ms passes thanks to minP99DeltaMs 50', () => {
    const verdict = judge({ requests: 500, p99Ms: 130 }, { p99Ms: 100 });
    assert.equal(verdict.result, 'pass');
    assert.equal(check(verdict, 'p99-latency').passed, true);
  });

  test('the same 130ms fails once the absolute margin is removed', () => {
    const verdict = judge({ requests: 500, p99Ms: 130 }, { p99Ms: 100 }, { config: { minP99DeltaMs: 0 } });
    assert.equal(verdict.result, 'fail');
    assert.equal(check(verdict, 'p99-latency').limit, 120);
  });

  test('the limit itself passes; just above fails', () => {
    assert.equal(judge({ requests: 500, p99Ms: 150 }, { p99Ms: 100 }).result, 'pass');
    assert.equal(judge({ requests: 500, p99Ms: 150.1 }, { p99Ms: 100 }).result, 'fail');
    // For a slow baseline the ratio is the larger margin: 1.2 × 1000 = 1200.
    assert.equal(judge({ requests: 500, p99Ms: 1200 }, { p99Ms: 1000 }).result, 'pass');
    assert.equal(judge({ requests: 500, p99Ms: 1201 }, { p99Ms: 1000 }).result, 'fail');
  });

  test('a missing p99 on either side is unarmed: never a fail, never a pass', () => {
    for (const [canaryP99, baselineP99] of [
      [null, 100],
      [300, null],
      [null, null],
    ] as const) {
      const verdict = judge({ requests: 500, p99Ms: canaryP99 }, { p99Ms: baselineP99 });
      const latency = check(verdict, 'p99-latency');
      assert.equal(latency.passed, null);
      assert.equal(latency.limit, null);
      assert.equal(latency.note, 'no latency data from the metrics source');
      assert.equal(latency.unarmed, latency.note);
      assert.equal(verdict.result, 'inconclusive', `canary ${canaryP99}, baseline ${baselineP99}`);
    }
  });

  test('analysis.latency: off judges errors alone, and says so', () => {
    const verdict = judge({ requests: 500, p99Ms: null }, { p99Ms: null }, { config: { latency: 'off' } });
    assert.equal(verdict.result, 'pass');
    assert.equal(check(verdict, 'p99-latency').note, 'not judged: analysis.latency is off in the spec');
  });

  test('a missing p99 does not mask an error-rate failure', () => {
    const verdict = judge({ requests: 500, errors: 100, p99Ms: null });
    assert.equal(verdict.result, 'fail');
    assert.match(verdict.summary, /^error-rate /);
  });

  test('both failures are listed in the summary', () => {
    const verdict = judge({ requests: 500, errors: 100, p99Ms: 900 }, { p99Ms: 100 });
    assert.equal(verdict.result, 'fail');
    assert.match(verdict.summary, /error-rate .*; p99-latency 900 > limit 150/);
  });
});

describe('judgePostSwitch', () => {
  test('a p99 comparison short of data does not hold a switch that has happened', () => {
    const verdict = judgePostSwitch({
      current: metrics('v2', 60, 0),
      baseline: metrics('v1', 50, 0),
      config: defaults,
      limits: { maxErrorRate: 0.05 },
      minRequests: 20,
    });
    assert.equal(verdict.result, 'pass');
    const p99 = check(verdict, 'p99-latency');
    assert.equal(p99.passed, null);
    assert.equal(p99.unarmed, undefined);
  });
});
