import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { readState, startCanary } from '../../src/client/rollouts';
import { type DevServer, startDevServer } from '../../src/devserver/dev-server';
import { createRolloutWorker } from '../../src/worker/create-worker';
import type { RolloutResult } from '../../src/workflows/state';
import { artifactsDir, launchChromium, openLoopbackPage, type UiPage } from '../helpers/browser';
import { type DashboardProcess, httpRequest, startDashboardCli } from '../helpers/dashboard';
import { chartBoundaries, chartLines, lastValue } from '../helpers/dashboard-page';
import { eventually } from '../helpers/eventually';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { workflowBundle } from '../helpers/temporal';

const TOKEN = 'dashboard-browser-test-token-42';
const WEB_UI = 'http://127.0.0.1:8233';
const SCREENSHOT_FOR_README = path.resolve(__dirname, '../../docs/images/dashboard.png');
// Windows far longer than the test: only the injected fault, or a button, can end these rollouts.
const LONG_WINDOW = { window: '5m', interval: '1s', minCanaryRequests: 15 };

describe('dashboard: watch and steer rollouts in a real browser', { timeout: 420_000 }, () => {
  // Whatever got started, stopped in reverse order whether the tests passed or not.
  const started: {
    browser?: Browser;
    server?: DevServer;
    stack?: Stack;
    connection?: Connection;
    nativeConnection?: NativeConnection;
    worker?: Worker;
    running?: Promise<void>;
    dashboard?: DashboardProcess;
  } = {};
  let client: Client;
  let taskQueue: string;
  let ui: UiPage;
  const screenshots = artifactsDir('dashboard');

  before(async () => {
    started.browser = await launchChromium();
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const server = (started.server = await startDevServer());
    const stack = (started.stack = await Stack.start());
    stack.startUsers(40, 400_000);
    started.connection = await Connection.connect({ address: server.address });
    started.nativeConnection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection: started.connection, namespace: server.namespace });
    taskQueue = `dashboard-${process.pid}`;
    started.worker = await createRolloutWorker({
      connection: started.nativeConnection,
      namespace: server.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
    });
    started.running = started.worker.run();
    // The real command, as a person starts it; a token is set, so even loopback asks for it.
    started.dashboard = await startDashboardCli([], {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      ROLLOUT_DASHBOARD_TOKEN: TOKEN,
      ROLLOUT_WEB_UI_URL: WEB_UI,
      ROLLOUT_DASHBOARD_URL: undefined,
    });
    ui = await openLoopbackPage(started.browser);
  });

  after(async () => {
    await started.browser?.close();
    const code = await started.dashboard?.interrupt();
    started.worker?.shutdown();
    await started.running?.catch(() => undefined);
    await started.stack?.close();
    await Promise.allSettled([started.connection?.close(), started.nativeConnection?.close()]);
    await started.server?.stop();
    assert.equal(code, 0, `Ctrl-C stops the dashboard cleanly:\n${started.dashboard?.output()}`);
  });

  /** Runs a step of the test, with a screenshot and the browser's complaints if it fails. */
  async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const shot = path.join(screenshots, `failure-${name}.png`);
      await ui.page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      (err as Error).message +=
        `\nscreenshot: ${shot}` +
        (ui.problems.length ? `\nbrowser problems:\n  ${ui.problems.join('\n  ')}` : '') +
        `\ndashboard output:\n${started.dashboard?.output() ?? ''}`;
      throw err;
    }
  }

  const monitoringAt = (service: string, weight: number) =>
    eventually(
      async () => {
        const state = await readState(client, service);
        return state.phase === 'monitoring' && state.weights.canary === weight && state;
      },
      60_000,
      `${service} monitoring at ${weight}%`,
    );

  const routerCanary = async (weight: number, what: string) =>
    eventually(
      async () => {
        const split = await started.stack!.split();
        assert.deepEqual(split.weights, { stable: 100 - weight, canary: weight });
        return true;
      },
      30_000,
      what,
    );

  it('the API refuses requests without the token; the page signs in once with ?token=', async () => {
    const url = started.dashboard!.url;
    assert.equal((await httpRequest(`${url}/api/rollouts`)).status, 401);
    const { page } = ui;
    await page.goto(`${url}/?token=${TOKEN}`);
    await page.getByRole('heading', { name: 'Rollouts' }).waitFor();
    assert.ok(!page.url().includes('token'), `the token is dropped from the address bar: ${page.url()}`);
    const cookies = await page.context().cookies(url);
    const session = cookies.find((c) => c.name === 'rollout_dashboard');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!session.value.includes(TOKEN));
  });

  it('a bad canary: its error line rises above the stable one, and the rollback is on the timeline', async () => {
    const service = 'dash-bad';
    const { page } = ui;
    const stack = started.stack!;
    const handle = await startCanary(
      client,
      fastCanarySpec(stack, { service, monitoring: LONG_WINDOW }),
      taskQueue,
    );
    await monitoringAt(service, 20);

    await step('list', async () => {
      // The list refreshes by itself: the new rollout appears without a reload.
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: service }) });
      await row.waitFor({ timeout: 20_000 });
      await eventually(
        async () => {
          const text = await row.innerText();
          return /monitoring/.test(text) && /\b20%/.test(text) && /canary/.test(text) && /running/.test(text);
        },
        20_000,
        'the row shows strategy, phase, weight and status',
      );
      await page.screenshot({ path: path.join(screenshots, '0-list.png') });
      await row.getByRole('link', { name: service }).click();
      await page.waitForURL(`**/rollouts/rollout-${service}`);
    });

    const errorLines = () => chartLines(page, 'chart-error-rate');
    const canaryPoints = async () => (await errorLines()).find((l) => l.key === 'canary')?.data.length ?? 0;

    await step('healthy-points', async () => {
      // Live: points arrive while the page stays open.
      await eventually(async () => (await canaryPoints()) >= 2, 30_000, 'two polls plotted');
      const before = await canaryPoints();
      await eventually(
        async () => (await canaryPoints()) > before,
        15_000,
        'a new poll plotted without a reload',
      );
      const link = page.locator('#web-ui-link');
      assert.equal(
        await link.getAttribute('href'),
        `${WEB_UI}/namespaces/default/workflows/rollout-${service}`,
      );
      const boundaries = await chartBoundaries(page, 'chart-error-rate');
      assert.equal(boundaries[0]?.label, 'stage 1 · 20%', 'the first stage boundary is marked');
    });

    stack.v2.setFaults({ errorRate: 0.5 });
    const result = (await handle.result()) as RolloutResult;
    assert.equal(result.outcome, 'rolled_back');

    await step('rolled-back', async () => {
      // The window's rollback, with its verdict (the one restoring traffic after it has none).
      const rollback = page.locator('.decision.kind-rollback').filter({ has: page.locator('details') });
      await rollback.waitFor({ timeout: 20_000 });
      assert.match(await rollback.innerText(), /error-rate/);
      await page.locator('#outcome').getByText('rolled back').waitFor();
      await page.getByText(/ended \(completed\)/).waitFor();

      const lines = await errorLines();
      const canary = lastValue(lines, 'canary');
      const stable = lastValue(lines, 'stable');
      assert.ok(canary !== undefined && stable !== undefined, JSON.stringify(lines));
      assert.ok(canary > stable, `canary error rate ${canary}% above stable ${stable}%`);
      // Cumulative over the window, healthy polls included: the rise depends on how long it was healthy.
      assert.ok(canary >= stable + 1, `canary error rate ${canary}% shows the fault`);
      // The plot is the state's own series, as the analysis judged it.
      const series = result.state.series ?? [];
      assert.equal(lines.find((l) => l.key === 'canary')?.data.length, series.length);
      const weight = (await chartLines(page, 'chart-weight'))[0]!.data.map((p) => p.y);
      assert.deepEqual([Math.max(...(weight as number[])), weight[weight.length - 1]], [20, 0]);

      // The evidence behind the rollback: counts, rates, the statistic and its limit.
      await rollback.locator('summary').click();
      const checks = rollback.locator('table.checks');
      const errorRow = checks.getByRole('row').filter({ hasText: 'error-rate' });
      assert.match(await errorRow.innerText(), /failed/);
      const counts = await rollback.locator('table.counts').innerText();
      const verdict = [...result.state.decisions].reverse().find((d) => d.kind === 'rollback' && d.evidence)
        ?.evidence as { canary: { requests: number; errors: number } } | undefined;
      assert.ok(verdict, 'the rollback decision carries its verdict');
      assert.ok(counts.includes(String(verdict.canary.errors)), `${counts} shows the canary's errors`);
      await page.screenshot({ path: path.join(screenshots, '1-bad-canary-rolled-back.png'), fullPage: true });
    });

    await step('stops-polling', async () => {
      let polls = 0;
      const count = (request: { url(): string }) => {
        if (request.url().includes('/api/rollouts/')) polls++;
      };
      page.on('request', count);
      await sleep(5000);
      page.off('request', count);
      assert.equal(polls, 0, 'a finished rollout is not polled any more');
    });
    await routerCanary(0, 'the router back at 100% stable');
    stack.v2.setFaults({ errorRate: 0 });
  });

  it('pause, resume, promote and abort (with reason and confirmation) with the buttons', async () => {
    const service = 'dash-abort';
    const reason = 'dashboard abort: checkout latency complaints';
    const { page } = ui;
    const handle = await startCanary(
      client,
      fastCanarySpec(started.stack!, { service, monitoring: LONG_WINDOW }),
      taskQueue,
    );
    await monitoringAt(service, 20);
    await routerCanary(20, 'the router gives the canary 20%');

    await step('open', async () => {
      await page.goto(`${started.dashboard!.url}/rollouts/rollout-${service}`);
      await page.locator('[data-role="canary"]').getByText('20%').waitFor();
    });

    await step('pause-resume', async () => {
      await page.locator('#pause-reason').fill('looking at the graphs');
      await page.getByRole('button', { name: 'Pause' }).click();
      await eventually(async () => (await readState(client, service)).paused, 15_000, 'paused');
      assert.equal((await readState(client, service)).pauseReason, 'looking at the graphs');
      await page.getByText('paused: looking at the graphs').waitFor();
      const resume = page.getByRole('button', { name: 'Resume' });
      await eventually(() => resume.isEnabled(), 10_000, 'Resume enabled while paused');
      await resume.click();
      await eventually(async () => !(await readState(client, service)).paused, 15_000, 'resumed');
    });

    await step('promote', async () => {
      // A poll in stage 1 first, so that the plot has a stage 1 to draw a boundary after.
      await eventually(
        async () => ((await chartLines(page, 'chart-error-rate'))[1]?.data.length ?? 0) > 0,
        20_000,
        'a poll plotted in stage 1',
      );
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Promote' }).click();
      await monitoringAt(service, 50);
      await routerCanary(50, 'promote ended stage 1: the router gives the canary 50%');
      await page.locator('[data-role="canary"]').getByText('50%').waitFor();
    });

    await step('abort', async () => {
      const abort = page.getByRole('button', { name: 'Abort' });
      // No reason: nothing is sent.
      await abort.click();
      await page.getByText('An abort needs a reason').waitFor();
      await page.locator('#abort-reason').fill(reason);
      // Dismissed: nothing is sent either.
      let asked = '';
      page.once('dialog', (dialog) => {
        asked = dialog.message();
        void dialog.dismiss();
      });
      await abort.click();
      await page.getByText('abort cancelled').waitFor();
      assert.match(asked, /Abort rollout-dash-abort\?/);
      assert.ok(asked.includes(reason), 'the confirmation repeats the reason');
      await sleep(1500);
      assert.equal((await readState(client, service)).outcome, null, 'a dismissed abort sends nothing');
      await routerCanary(50, 'still 50% after the dismissed abort');

      page.once('dialog', (dialog) => void dialog.accept());
      await abort.click();
      const result = (await handle.result()) as RolloutResult;
      assert.equal(result.outcome, 'aborted');
      assert.equal(result.state.abortReason, reason);
      await routerCanary(0, 'the load balancer shows canary 0% after the abort');
      const split = await started.stack!.split();
      assert.equal(split.stable?.version, 'v1');

      const decision = page.locator('.decision.kind-abort').first();
      await decision.waitFor({ timeout: 20_000 });
      assert.ok((await decision.innerText()).includes(reason), 'the timeline shows the reason');
      await page.locator('#outcome').getByText('aborted').waitFor();
      assert.equal(
        await page.getByRole('button', { name: 'Abort' }).isDisabled(),
        true,
        'an ended rollout takes no signals',
      );
      const boundaries = await chartBoundaries(page, 'chart-error-rate');
      assert.deepEqual(
        boundaries.map((b) => b.label),
        ['stage 1 · 20%', 'stage 2 · 50%'],
        'the promote started stage 2: a boundary',
      );
      await page.screenshot({
        path: path.join(screenshots, '2-aborted-from-the-dashboard.png'),
        fullPage: true,
      });
    });

    await step('list-after', async () => {
      await page.getByRole('link', { name: '← all rollouts' }).click();
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: service }) });
      await row.getByText('aborted').waitFor({ timeout: 15_000 });
    });
    // CSP refusals and script errors show up as console errors. A poll cut short by leaving the
    // page is no problem.
    const problems = ui.problems.filter((p) => !p.includes('net::ERR_ABORTED'));
    assert.deepEqual(problems, [], 'the page ran without errors');
  });

  // Written only when asked (UPDATE_DOCS_SCREENSHOT=1): a test run should not change tracked files.
  it('the README screenshot', async () => {
    const { page } = ui;
    await page.goto(`${started.dashboard!.url}/rollouts/rollout-dash-bad`);
    const rollback = page.locator('.decision.kind-rollback').filter({ has: page.locator('details') });
    await rollback.waitFor();
    // The rollback's evidence open, as someone looking into it would see it; from the top.
    await rollback.locator('summary').click();
    const shot = path.join(screenshots, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: 0, width: 1400, height: 1750 } });
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      mkdirSync(path.dirname(SCREENSHOT_FOR_README), { recursive: true });
      copyFileSync(shot, SCREENSHOT_FOR_README);
    }
  });
});
