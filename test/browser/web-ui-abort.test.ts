import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { readState, startCanary } from '../../src/client/rollouts';
import { type DevServer, startDevServer } from '../../src/devserver/dev-server';
import { createRolloutWorker } from '../../src/worker/create-worker';
import { stateQuery } from '../../src/workflows/control';
import type { RolloutResult } from '../../src/workflows/state';
import {
  artifactsDir,
  launchChromium,
  openLoopbackPage,
  sendSignalFromWorkflowPage,
} from '../helpers/browser';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { workflowBundle } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';

const SERVICE = 'ui-abort';
const WORKFLOW_ID = `rollout-${SERVICE}`;
const REASON = 'aborted from the Web UI';

describe('Web UI: abort a canary from a real browser', () => {
  // Whatever the test got to start, stopped in reverse order whether it passed or not.
  const started: {
    browser?: Browser;
    server?: DevServer;
    stack?: Stack;
    connection?: Connection;
    nativeConnection?: NativeConnection;
  } = {};
  after(async () => {
    await started.browser?.close();
    await started.stack?.close();
    await Promise.allSettled([started.connection?.close(), started.nativeConnection?.close()]);
    await started.server?.stop();
  });

  it(
    "the abort signal sent through the UI's Send a Signal dialog rolls the canary back",
    { timeout: 90_000 },
    async () => {
      // First, and inside the test: no Chromium is a test failure with install instructions.
      const browser = (started.browser = await launchChromium());
      const screenshots = artifactsDir('web-ui-abort');
      Runtime.install({ logger: new DefaultLogger('WARN') });
      const server = (started.server = await startDevServer({ ui: true }));
      assert.ok(server.uiUrl, 'the dev server was started with its Web UI');
      const stack = (started.stack = await Stack.start());
      stack.startUsers(40, 120_000);
      const connection = (started.connection = await Connection.connect({ address: server.address }));
      const nativeConnection = (started.nativeConnection = await NativeConnection.connect({
        address: server.address,
      }));
      const client = new Client({ connection, namespace: server.namespace });
      const taskQueue = `web-ui-abort-${process.pid}`;
      // The UI lists signal names from the workflow's handlers, which a running worker reports.
      const worker = await createRolloutWorker({
        connection: nativeConnection,
        namespace: server.namespace,
        taskQueue,
        workflowBundle: await workflowBundle(),
      });
      const spec = fastCanarySpec(stack, {
        service: SERVICE,
        // A window far longer than the test: only the abort can end this rollout in time.
        monitoring: { window: '5m', interval: '1s', minCanaryRequests: 15 },
      });
      const handle = await startCanary(client, spec, taskQueue);
      const { page, problems } = await openLoopbackPage(browser);

      const { result, queried } = await worker.runUntil(async () => {
        await eventually(
          async () => {
            const state = await readState(client, SERVICE);
            return state.phase === 'monitoring' && state.weights.canary === 20 && state;
          },
          30_000,
          `${SERVICE} monitoring at 20%`,
        );
        assert.equal(
          (await stack.split()).weights.canary,
          20,
          'the router gives the canary 20% before the abort',
        );

        try {
          await page.goto(`${server.uiUrl}/namespaces/${server.namespace}/workflows/${WORKFLOW_ID}`, {
            timeout: 30_000,
          });
          await sendSignalFromWorkflowPage(page, {
            signal: 'abort',
            input: JSON.stringify({ reason: REASON }),
            screenshotPath: path.join(screenshots, '1-signal-dialog.png'),
          });
          const result = (await handle.result()) as RolloutResult;
          // The page refreshes itself; a finished rollout shows up as Completed.
          await page
            .getByText(/^completed$/i)
            .filter({ visible: true })
            .first()
            .waitFor({ state: 'visible', timeout: 20_000 });
          await page.screenshot({ path: path.join(screenshots, '2-completed.png') });
          // The `state` query, answered by the worker from the closed workflow's history.
          const queried = await handle.query(stateQuery);
          return { result, queried };
        } catch (err) {
          await page.screenshot({ path: path.join(screenshots, 'failure.png') }).catch(() => undefined);
          (err as Error).message +=
            `\nscreenshot: ${path.join(screenshots, 'failure.png')}` +
            (problems.length ? `\nbrowser problems:\n  ${problems.join('\n  ')}` : '');
          throw err;
        }
      });

      assert.equal(result.outcome, 'aborted');
      assert.equal(result.state.abortReason, REASON);
      const abort = result.state.decisions.find((d) => d.kind === 'abort');
      assert.equal(abort?.reason, REASON, 'the abort decision keeps the reason typed in the UI');
      assert.equal(queried.abortReason, REASON);
      assert.equal(queried.outcome, 'aborted');
      assert.equal((await readState(client, SERVICE)).abortReason, REASON);

      const split = await stack.split();
      assert.deepEqual(split.weights, { stable: 100, canary: 0 }, 'the router is back at 100% stable');
      assert.equal(split.stable?.version, 'v1');
    },
  );
});
