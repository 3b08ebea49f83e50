import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { lastJsonLine } from '../helpers/cli';

const ROOT = resolve(__dirname, '..', '..');

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

interface Summary {
  scenario: string;
  strategy: string;
  outcome: string;
  workflowId: string;
  failedRequestsOnNewVersion: number;
  secondsToRollback: number | null;
  finalTraffic: Record<string, number>;
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
});
