import { Command, Option } from 'commander';
import { freePort } from '../devserver/free-port';
import { startCanary } from '../client/rollouts';
import { progressLine } from '../client/render';
import { watchRollout } from '../client/watch';
import { parseCanarySpec } from '../spec/load';
import type { RolloutResult } from '../workflows/state';
import { SCENARIO_TEXT, SCENARIOS, scenarioSpec, type ScenarioName } from './scenarios';
import { startDemoStack, type DemoStack } from './stack';
import { summarize, type RouterSplitView, type RouterStatsView, type ScenarioSummary } from './summary';
import { startTraffic } from './traffic';

const EXPECTED: Record<ScenarioName, string> = { bad: 'rolled_back', good: 'promoted' };
const USERS_RPS = 50;

async function getJson<T>(url: string): Promise<T> {
  return (await fetch(url)).json() as Promise<T>;
}

async function runScenario(
  stack: DemoStack,
  name: ScenarioName,
  log: (line: string) => void,
): Promise<ScenarioSummary> {
  log(`\n=== scenario "${name}": ${SCENARIO_TEXT[name]}`);
  await fetch(`${stack.router.adminUrl}/admin/reset-stats`, { method: 'POST' });
  const users = startTraffic({ url: stack.router.url, rps: USERS_RPS, users: 500, maxDurationMs: 600_000 });
  try {
    const canaryUrl = `http://127.0.0.1:${await freePort()}`;
    const stable = (await getJson<RouterSplitView>(`${stack.router.adminUrl}/admin/split`)).stable;
    const spec = parseCanarySpec(
      scenarioSpec(name, { stableUrl: stack.stableUrl, canaryUrl, routerAdminUrl: stack.router.adminUrl }),
      `demo scenario ${name}`,
    );
    if (stable?.version !== spec.stable.version)
      throw new Error(`router's stable is ${stable?.version}, expected ${spec.stable.version}`);
    const handle = await startCanary(stack.client, spec, stack.taskQueue);
    log(
      `started ${handle.workflowId}: ${stack.server.uiUrl}/namespaces/default/workflows/${handle.workflowId}`,
    );
    await watchRollout(stack.client, handle.workflowId, (state) =>
      log(`  ${new Date().toISOString().slice(11, 19)} ${progressLine(state)}`),
    );
    const result = (await handle.result()) as RolloutResult;
    const report = await users.stop();
    const stats = await getJson<RouterStatsView>(`${stack.router.adminUrl}/admin/stats`);
    const split = await getJson<RouterSplitView>(`${stack.router.adminUrl}/admin/split`);
    return summarize(name, handle.workflowId, result, stats, split, report, spec.canary.version);
  } finally {
    await users.stop();
  }
}

function printTable(summaries: ScenarioSummary[], log: (line: string) => void): void {
  log('\n=== summary');
  log('scenario  outcome      failed on v2  requests on v2  seconds to rollback  final traffic');
  for (const s of summaries) {
    const traffic = Object.entries(s.finalTraffic)
      .map(([v, p]) => `${v} ${p}%`)
      .join(', ');
    log(
      `${s.scenario.padEnd(9)} ${s.outcome.padEnd(12)} ${String(s.failedRequestsOnNewVersion).padStart(12)}  ${String(s.requestsOnNewVersion).padStart(14)}  ${String(s.secondsToRollback ?? '-').padStart(19)}  ${traffic}`,
    );
  }
}

async function main(): Promise<void> {
  const program = new Command('demo')
    .description(
      'Runs real canary rollouts end to end: a bad one that rolls back by itself, then a good one that is promoted.',
    )
    .addOption(new Option('--scenario <name>', 'run one scenario').choices([...SCENARIOS]))
    .option('--json', 'print progress to stderr and one JSON summary as the last line of stdout')
    .option('--keep-open', 'keep Temporal and its Web UI running after the scenarios, until Ctrl-C')
    .parse(process.argv);
  const opts = program.opts<{ scenario?: ScenarioName; json?: boolean; keepOpen?: boolean }>();
  const log = (line: string): void => void (opts.json ? process.stderr : process.stdout).write(`${line}\n`);

  const stack = await startDemoStack(log);
  let stopping = false;
  const shutdown = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await stack.close();
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(130));
  process.once('SIGTERM', () => void shutdown(143));

  try {
    const scenarios = opts.scenario ? [opts.scenario] : [...SCENARIOS];
    const summaries: ScenarioSummary[] = [];
    for (const name of scenarios) summaries.push(await runScenario(stack, name, log));
    printTable(summaries, log);
    const ok = summaries.every((s) => s.outcome === EXPECTED[s.scenario as ScenarioName]);
    if (opts.json)
      console.log(JSON.stringify(summaries.length === 1 ? summaries[0] : { scenarios: summaries }));
    if (opts.keepOpen) {
      log(`\nTemporal Web UI stays up at ${stack.server.uiUrl}; Ctrl-C to stop.`);
      await new Promise(() => undefined);
    }
    await shutdown(ok ? 0 : 1);
  } catch (err) {
    log(`demo failed: ${(err as Error).stack ?? err}`);
    await shutdown(1);
  }
}

void main();
