import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import type { Worker } from '@temporalio/worker';
import { lastJsonLine, runCli } from '../helpers/cli';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

describe('the rollout CLI against a real dev server', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let stack: Stack;
  let cliEnv: NodeJS.ProcessEnv;
  const dir = mkdtempSync(join(tmpdir(), 'rollout-cli-'));

  before(async () => {
    env = await createTemporalEnv();
    const taskQueue = uniqueTaskQueue('cli');
    worker = await createWorker(env, taskQueue);
    running = worker.run();
    stack = await Stack.start();
    stack.startUsers(60, 300_000);
    cliEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', ROLLOUT_TASK_QUEUE: taskQueue };
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await stack?.close();
    await env?.teardown();
  });

  function specFile(name: string, doc: object): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify(doc));
    return file;
  }

  const validDoc = (service: string) => ({
    service,
    stable: { version: 'v1', targets: [stack.v1.url] },
    canary: { version: 'v2', targets: [stack.v2.url] },
    stages: [25, 100],
    monitoring: { window: '2s', interval: '500ms', minCanaryRequests: 10 },
    traffic: { adminUrl: stack.router.adminUrl },
    promotion: { stabilizationDelay: '500ms' },
  });

  it('rejects an invalid spec before anything starts, naming each bad field', async () => {
    const file = specFile('invalid', {
      ...validDoc('cli-invalid'),
      stages: [50, 10],
      canary: { version: 'v1', targets: ['ftp://nope'] },
      monitoring: { window: 'soon' },
    });
    const run = await runCli(['start', 'canary', '-f', file], cliEnv);
    assert.equal(run.code, 2);
    for (const path of ['canary.targets[0]', 'stages[1]', 'monitoring.window'])
      assert.match(run.stderr, new RegExp(path.replace(/[[\]]/g, '\\$&')));
    await assert.rejects(env.client.workflow.getHandle('rollout-cli-invalid').describe(), /not found/i);
  });

  it('start --wait exits 0 for a promoted canary and prints JSON', async () => {
    const run = await runCli(
      ['start', 'canary', '-f', specFile('good', validDoc('cli-good')), '--wait', '--json'],
      cliEnv,
    );
    assert.equal(run.code, 0, run.stderr);
    const out = lastJsonLine<{ workflowId: string; outcome: string }>(run.stdout);
    assert.deepEqual([out.workflowId, out.outcome], ['rollout-cli-good', 'promoted']);

    const status = await runCli(['status', 'cli-good', '--json'], cliEnv);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(lastJsonLine<{ phase: string }>(status.stdout).phase, 'promoted');
  });

  it('start --wait exits 1 when the canary is rolled back', async () => {
    await stack.resetToV1();
    stack.v2.setFaults({ errorRate: 0.6 });
    const run = await runCli(
      ['start', 'canary', '-f', specFile('bad', validDoc('cli-bad')), '--wait', '--json'],
      cliEnv,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.equal(lastJsonLine<{ outcome: string }>(run.stdout).outcome, 'rolled_back');
    assert.deepEqual((await stack.split()).weights, { stable: 100, canary: 0 });
  });

  it('--dry-run validates and prints the spec with its defaults, starting nothing', async () => {
    const run = await runCli(
      ['start', 'canary', '-f', specFile('dry', validDoc('cli-dry')), '--dry-run', '--json'],
      cliEnv,
    );
    assert.equal(run.code, 0, run.stderr);
    const spec = lastJsonLine<{ service: string; analysis: { mode: string }; stages: { weight: number }[] }>(
      run.stdout,
    );
    assert.equal(spec.service, 'cli-dry');
    assert.equal(spec.analysis.mode, 'sequential');
    assert.deepEqual(
      spec.stages.map((s) => s.weight),
      [25, 100],
    );
    await assert.rejects(env.client.workflow.getHandle('rollout-cli-dry').describe(), /not found/i);
  });

  it('exits 4 with a clear message when Temporal is unreachable', async () => {
    const run = await runCli(['list'], { ...cliEnv, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stderr, /error:/);
  });
});
