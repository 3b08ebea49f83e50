import { promoteRollout, readState, startBlueGreen } from '../src/client/rollouts';
import { DEFAULT_FAULTS } from '../src/demo/faults';
import type { RouteSpec } from '../src/router/split-schema';
import type { BlueGreenSpecInput } from '../src/spec/blue-green';
import { parseBlueGreenSpec } from '../src/spec/load';
import type { Phase, RolloutResult, RolloutState } from '../src/workflows/state';
import { eventually } from '../test/helpers/eventually';
import { putLive, readSplit } from '../test/helpers/router-split';
import { startBenchStack } from './harness';
import { describeMs, median, percentile } from './stats';

/**
 * Blue-green switch latency through a real dev server and worker:
 *  (a) switch: `promote` signal sent at a manual gate → the router reports 100% green;
 *  (b) switch-back: green starts failing right after the switch → the router reports 100% blue,
 *      measured from the first failing post-switch poll (the 'rollback' decision's timestamp) and,
 *      separately, from the moment the fault was injected (which adds detection time).
 * The baseline for both is the same router change made directly with PUT /admin/split.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const POLL_INTERVAL = '500ms';
const ROUTER_POLL_MS = 2;

const warnings: string[] = [];
function warn(service: string, message: string, state: RolloutState): void {
  const why = state.decisions.map((d) => `${d.kind}: ${d.reason}`).join('\n    ');
  warnings.push(`${service}: ${message}\n    ${why}`);
  process.stderr.write(`WARNING ${warnings[warnings.length - 1]}\n`);
}

async function main(): Promise<void> {
  const stack = await startBenchStack('bench-switch');
  const { router, client, taskQueue, v1: blueService, v2: greenService } = stack;
  const blue: RouteSpec = { version: 'v1', targets: [blueService.url] };
  const green: RouteSpec = { version: 'v2', targets: [greenService.url] };

  /** Resolves with Date.now() at the first router read that shows `route` at 100%. */
  const routerAt100 = (route: RouteSpec): Promise<number> =>
    eventually(
      async () => {
        const split = await readSplit(router.adminUrl);
        const live =
          split.stable?.version === route.version &&
          split.stable.targets.join() === route.targets.join() &&
          split.weights.stable === 100;
        return live && Date.now();
      },
      60_000,
      `router at 100% ${route.version}`,
      ROUTER_POLL_MS,
    );
  const phaseReached = (service: string, phase: Phase) =>
    eventually(
      async () => (await readState(client, service)).phase === phase,
      60_000,
      `${service} ${phase}`,
      10,
    );
  const spec = (service: string, overrides: Partial<BlueGreenSpecInput>) =>
    parseBlueGreenSpec({
      service,
      version: 'v2',
      environments: { blue: { targets: blue.targets }, green: { targets: green.targets } },
      monitoring: { window: '5s', interval: POLL_INTERVAL, minCanaryRequests: 20 },
      healthCheck: { retries: 1, interval: '200ms', timeout: '1s' },
      smokeTests: [{ name: 'smoke', path: '/smoke' }],
      traffic: { adminUrl: router.adminUrl },
      ...overrides,
    });

  try {
    const baselineSwitch: number[] = [];
    const baselineBack: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await putLive(router.adminUrl, blue);
      let t0 = Date.now();
      await putLive(router.adminUrl, green, blue);
      baselineSwitch.push((await routerAt100(green)) - t0);
      t0 = Date.now();
      await putLive(router.adminUrl, blue, green);
      baselineBack.push((await routerAt100(blue)) - t0);
    }

    const switchMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const service = `bench-switch-${i}`;
      await putLive(router.adminUrl, blue);
      const handle = await startBlueGreen(
        client,
        spec(service, {
          promotion: { mode: 'manual', stabilizationDelay: '500ms' },
          postSwitch: { window: '1s' },
        }),
        taskQueue,
      );
      await phaseReached(service, 'awaiting-promotion');
      const t0 = Date.now();
      await promoteRollout(client, service);
      switchMs.push((await routerAt100(green)) - t0);
      const { outcome, state } = (await handle.result()) as RolloutResult;
      // The switch was measured either way; a healthy green that did not stay is worth knowing about.
      if (outcome !== 'promoted') warn(service, `expected promoted, got ${outcome}`, state);
      process.stderr.write(`(a) run ${i + 1}/${RUNS}: promote → 100% green ${switchMs[i]} ms\n`);
    }

    const fromPoll: number[] = [];
    const fromFault: number[] = [];
    const detection: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const service = `bench-switch-back-${i}`;
      greenService.setFaults({ ...DEFAULT_FAULTS });
      await putLive(router.adminUrl, blue);
      const handle = await startBlueGreen(
        client,
        spec(service, {
          postSwitch: { window: '60s', maxErrorRate: 0.05 },
          promotion: { stabilizationDelay: '1s' },
        }),
        taskQueue,
      );
      await routerAt100(green);
      greenService.setFaults({ errorRate: 0.5 });
      const faultAt = Date.now();
      const blueAt = await routerAt100(blue);
      const { outcome, state } = (await handle.result()) as RolloutResult;
      const failing = state.decisions.find(
        (d) => d.kind === 'rollback' && d.reason.startsWith('after the switch'),
      );
      if (outcome !== 'rolled_back' || !failing) {
        warn(service, `expected a post-switch rollback, got ${outcome}; run not counted`, state);
        continue;
      }
      const failedAt = Date.parse(failing.at);
      fromPoll.push(blueAt - failedAt);
      fromFault.push(blueAt - faultAt);
      detection.push(failedAt - faultAt);
      process.stderr.write(
        `(b) run ${i + 1}/${RUNS}: failing poll → 100% blue ${blueAt - failedAt} ms, fault → 100% blue ${blueAt - faultAt} ms\n`,
      );
    }
    greenService.setFaults({ ...DEFAULT_FAULTS });

    const cell = (v: number[]) =>
      (v.length ? `${median(v).toFixed(0)} ms (p90 ${percentile(v, 90).toFixed(0)})` : 'no runs').padEnd(22);
    const overhead = (v: number[], base: number[]) =>
      v.length ? `${(median(v) - median(base)).toFixed(0)} ms` : '';
    const rows: [string, number[], number[] | null][] = [
      ['(a) promote signal → router 100% green', switchMs, baselineSwitch],
      ['(b) failing poll → router 100% blue', fromPoll, baselineBack],
      ['    fault injected → router 100% blue', fromFault, baselineBack],
      ['    fault injected → failing poll', detection, null],
    ];
    console.log(
      `\nblue-green switch latency, ${RUNS} runs each (median, p90); router polled every ${ROUTER_POLL_MS} ms`,
    );
    console.log(
      `${''.padEnd(40)} ${'durable-rollouts'.padEnd(22)} ${'direct PUT /admin/split'.padEnd(22)} overhead`,
    );
    for (const [label, measured, baseline] of rows) {
      const base = baseline ? cell(baseline) : '(detection time)'.padEnd(22);
      console.log(
        `${label.padEnd(40)} ${cell(measured)} ${base} ${baseline ? overhead(measured, baseline) : ''}`,
      );
    }
    console.log(
      `\n  detection = post-switch poll interval ${POLL_INTERVAL} + enough failed requests (green errorRate 0.5, 40 rps)`,
    );
    for (const [label, values] of [
      ['(a) switch', switchMs],
      ['(b) from failing poll', fromPoll],
      ['(b) from fault', fromFault],
      ['baseline switch', baselineSwitch],
      ['baseline switch back', baselineBack],
    ] as const) {
      if (values.length) console.log(`  ${label}: ${describeMs(values)}`);
    }
    if (warnings.length > 0)
      console.log(`\n${warnings.length} unexpected outcome(s):\n${warnings.join('\n')}`);
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
