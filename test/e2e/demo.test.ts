import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastJsonLine, runNode } from '../helpers/cli';

function runDemo(args: string[]) {
  return runNode(['--import', 'tsx', 'src/demo/main.ts', ...args]);
}

interface Summary {
  scenario: string;
  strategy: string;
  outcome: string;
  workflowId: string;
  failedRequestsOnNewVersion: number;
  secondsToRollback: number | null;
  finalTraffic: Record<string, number>;
  requestsOnNewVersion: number;
}

describe('npm run demo (worker process, process deploys, dev server with UI)', () => {
  it('--scenario bad --json rolls back by itself and reports the router view', async () => {
    const run = await runDemo(['--scenario', 'bad', '--json']);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    const summary = lastJsonLine<Summary>(run.stdout);
    assert.equal(summary.scenario, 'bad');
    assert.equal(summary.strategy, 'canary');
    assert.equal(summary.outcome, 'rolled_back');
    assert.equal(summary.workflowId, 'rollout-checkout');
    assert.deepEqual(summary.finalTraffic, { v1: 100, v2: 0 });
    assert.ok(summary.failedRequestsOnNewVersion > 0);
    assert.ok(summary.secondsToRollback !== null && summary.secondsToRollback > 0);
    assert.match(run.stderr, /Temporal Web UI: http:\/\/127\.0\.0\.1:\d+/);
  });

  it('--scenario slow --json: 300 ms slower, no errors, rolled back on latency alone', async () => {
    const run = await runDemo(['--scenario', 'slow', '--json']);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    const summary = lastJsonLine<Summary>(run.stdout);
    assert.equal(summary.scenario, 'slow');
    assert.equal(summary.strategy, 'canary');
    assert.equal(summary.outcome, 'rolled_back');
    assert.deepEqual(summary.finalTraffic, { v1: 100, v2: 0 });
    assert.equal(summary.failedRequestsOnNewVersion, 0);
    assert.ok(summary.requestsOnNewVersion > 0);
    // From v2's first (slow) request to the router at 0% for it.
    assert.ok(summary.secondsToRollback !== null && summary.secondsToRollback > 0);
    assert.match(run.stderr, /latency: /);
  });
});
