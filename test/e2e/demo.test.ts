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

  it('--scenario migration --json: the breaking expand is refused by lint, the guarded one survives the rollback', async () => {
    const run = await runDemo(['--scenario', 'migration', '--json']);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    const summary = lastJsonLine<Summary>(run.stdout);
    assert.equal(summary.scenario, 'migration');
    assert.equal(summary.outcome, 'rolled_back');
    assert.equal(summary.workflowId, 'rollout-users');
    assert.deepEqual(summary.finalTraffic, { v1: 100, v2: 0 });
    assert.ok(summary.failedRequestsOnNewVersion > 0);
    assert.match(run.stderr, /lint: migrations\/broken\/001_replace_name\.sql:7: DROP COLUMN users\.name/);
    assert.match(run.stderr, /refused before anything ran/);
    // The scenario's own check, through the router after the rollback (it fails the demo otherwise).
    assert.match(
      run.stderr,
      /8\/8 users answered by v1 through the router with the right name; users columns: id, name, full_name/,
    );
    assert.match(run.stderr, /migration phase: contract-cancelled/);
  });

  // The same scenarios through real load balancers; finalTraffic is the load balancer's read-back.
  it('--router haproxy --scenario bad --json rolls back through a real HAProxy', async () => {
    const run = await runDemo(['--router', 'haproxy', '--scenario', 'bad', '--json']);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    const summary = lastJsonLine<Summary>(run.stdout);
    assert.equal(summary.outcome, 'rolled_back');
    assert.equal(summary.finalTraffic.v1, 100);
    assert.equal(summary.finalTraffic.v2 ?? 0, 0);
    assert.ok(summary.failedRequestsOnNewVersion > 0, 'users really reached the bad canary through HAProxy');
    assert.match(run.stderr, /haproxy http:\/\/127\.0\.0\.1:\d+ \(runtime API tcp:/);
  });

  it('--router nginx --scenario good --json promotes through a real NGINX', async () => {
    const run = await runDemo(['--router', 'nginx', '--scenario', 'good', '--json']);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    const summary = lastJsonLine<Summary>(run.stdout);
    assert.equal(summary.outcome, 'promoted');
    assert.deepEqual(summary.finalTraffic, { v2: 100 });
    assert.ok(summary.requestsOnNewVersion > 0);
    assert.match(run.stderr, /nginx http:\/\/127\.0\.0\.1:\d+ \(include file /);
  });

  it('--router with an unknown value is a usage error (exit 2)', async () => {
    const run = await runDemo(['--router', 'f5']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /Allowed choices are embedded, haproxy, nginx/);
  });
});
