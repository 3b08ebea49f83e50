import { Command, Option } from 'commander';
import { freePort } from '../devserver/free-port';
import { progressLine } from '../client/render';
import { watchRollout } from '../client/watch';
import type { RolloutResult } from '../workflows/state';
import {
  SCENARIO_NAMES,
  SCENARIOS,
  type Scenario,
  type ScenarioContext,
  type ScenarioResources,
} from './scenarios';
import { checkLoadBalancerPrograms, ROUTERS, type RouterKind } from './load-balancer';
import { startDemoStack, type DemoStack } from './stack';
import {
  statsFromUsers,
  summarize,
  type RouterSplitView,
  type RouterStatsView,
  type ScenarioSummary,
} from './summary';
import { SERVICE_VERSION_HEADER } from './service';
import { startTraffic } from './traffic';

const USERS_RPS = 50;
// The router's admin API refuses writes that are not JSON (a web page cannot send those unasked).
const JSON_WRITE = { 'content-type': 'application/json' };

async function getJson<T>(url: string): Promise<T> {
  return (await fetch(url)).json() as Promise<T>;
}

async function runScenario(
  stack: DemoStack,
  scenario: Scenario,
  log: (line: string) => void,
): Promise<ScenarioSummary> {
  log(`\n=== ${scenario.strategy} scenario "${scenario.name}": ${scenario.description}`);
  await stack.v1Live();
  await fetch(`${stack.router.adminUrl}/admin/reset-stats`, { method: 'POST', headers: JSON_WRITE });
  const lb = stack.loadBalancer;
  // Through a load balancer the service itself says which version answered.
  const users = startTraffic({
    url: lb?.url ?? stack.router.url,
    rps: USERS_RPS,
    users: 500,
    maxDurationMs: 600_000,
    ...(scenario.trafficPath ? { path: scenario.trafficPath } : {}),
    ...(lb ? { versionHeader: SERVICE_VERSION_HEADER } : {}),
  });
  try {
    const ctx: ScenarioContext = {
      client: stack.client,
      taskQueue: stack.taskQueue,
      routerAdminUrl: stack.router.adminUrl,
      stableUrl: stack.stableUrl,
      newUrl: stack.greenUrl ?? `http://127.0.0.1:${await freePort()}`,
      ...(lb ? { loadBalancer: lb } : {}),
      routerUrl: lb?.url ?? stack.router.url,
      log,
    };
    const handle = await scenario.start(ctx);
    log(
      `started ${handle.workflowId}: ${stack.server.uiUrl}/namespaces/default/workflows/${handle.workflowId}`,
    );
    await watchRollout(stack.client, handle.workflowId, async (state) => {
      log(`  ${new Date().toISOString().slice(11, 19)} ${progressLine(state)}`);
      await scenario.onState?.(state, ctx);
    });
    const result = (await handle.result()) as RolloutResult;
    await scenario.finish?.(result, ctx);
    const report = await users.stop();
    // The load balancer's own read-back; the counts are what users really got from each version.
    const stats = lb
      ? statsFromUsers(report, result)
      : await getJson<RouterStatsView>(`${stack.router.adminUrl}/admin/stats`);
    const split: RouterSplitView = lb
      ? await lb.split()
      : await getJson<RouterSplitView>(`${stack.router.adminUrl}/admin/split`);
    return summarize(scenario, handle.workflowId, result, stats, split, report, 'v2');
  } finally {
    await users.stop();
  }
}

function printTable(summaries: ScenarioSummary[], log: (line: string) => void): void {
  log('\n=== summary');
  log(
    'scenario         strategy    outcome      failed on v2  requests on v2  seconds to rollback  final traffic',
  );
  for (const s of summaries) {
    const traffic = Object.entries(s.finalTraffic)
      .map(([v, p]) => `${v} ${p}%`)
      .join(', ');
    log(
      `${s.scenario.padEnd(16)} ${s.strategy.padEnd(11)} ${s.outcome.padEnd(12)} ${String(s.failedRequestsOnNewVersion).padStart(12)}  ${String(s.requestsOnNewVersion).padStart(14)}  ${String(s.secondsToRollback ?? '-').padStart(19)}  ${traffic}`,
    );
  }
}

async function main(): Promise<void> {
  const program = new Command('demo')
    .description(
      'Runs real rollouts end to end: canaries (bad rolls back by itself, good is promoted), then blue-green (green fails smoke; green degrades after the switch; good).',
    )
    .addOption(new Option('--scenario <name>', 'run one scenario').choices(SCENARIO_NAMES))
    .addOption(
      new Option(
        '--router <kind>',
        'what steers traffic: the embedded router, or a real HAProxy or NGINX (Debian packages; metrics then come from a real Prometheus)',
      )
        .choices(ROUTERS)
        .default('embedded'),
    )
    .option('--json', 'print progress to stderr and one JSON summary as the last line of stdout')
    .option(
      '--keep-open',
      'keep Temporal, its Web UI and the rollout dashboard running after the scenarios, until Ctrl-C',
    )
    // A usage error exits 2, as the CLI's do (commander's own code is 1); --help still exits 0.
    .showHelpAfterError()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .parse(process.argv);
  const opts = program.opts<{ scenario?: string; json?: boolean; keepOpen?: boolean; router: RouterKind }>();
  const log = (line: string): void => void (opts.json ? process.stderr : process.stdout).write(`${line}\n`);

  try {
    checkLoadBalancerPrograms(opts.router);
  } catch (err) {
    log(`demo cannot start: ${(err as Error).message}`);
    process.exit(1);
  }

  // Handlers first: a Ctrl-C while the stack starts waits for it, then stops all of it (nothing
  // it started may outlive the demo).
  let stack: DemoStack | undefined;
  const resources: ScenarioResources[] = [];
  let interrupted: number | undefined;
  let stopping = false;
  const shutdown = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await stack?.close();
      for (const r of resources) await r.close().catch(() => undefined);
    }
    process.exit(code);
  };
  const onSignal = (code: number) => (): void => {
    if (stack) void shutdown(code);
    else interrupted ??= code;
  };
  process.on('SIGINT', onSignal(130));
  process.on('SIGTERM', onSignal(143));

  // All scenarios: those that need the embedded router only run on it.
  const scenarios = SCENARIOS.filter((s) =>
    opts.scenario ? s.name === opts.scenario : opts.router === 'embedded' || !s.embeddedOnly,
  );
  try {
    // What scenarios need beside the stack (a database) comes first: its env reaches the worker.
    for (const s of [...scenarios]) {
      let prepared;
      try {
        prepared = await s.prepare?.(log);
      } catch (err) {
        // A scenario asked for by name must run; in the full tour, the others still do.
        if (opts.scenario) throw err;
        log(`skipping scenario ${s.name}: ${(err as Error).message}`);
        scenarios.splice(scenarios.indexOf(s), 1);
        continue;
      }
      if (!prepared) continue;
      resources.push(prepared);
      Object.assign(process.env, prepared.env);
    }
    stack = await startDemoStack(log, opts.router);
  } catch (err) {
    log(`demo cannot start: ${(err as Error).message}`);
    for (const r of resources) await r.close().catch(() => undefined);
    process.exit(interrupted ?? 1);
  }
  if (interrupted !== undefined) await shutdown(interrupted);

  try {
    const summaries: ScenarioSummary[] = [];
    for (const scenario of scenarios) summaries.push(await runScenario(stack, scenario, log));
    printTable(summaries, log);
    const ok = summaries.every((s) => s.outcome === s.expected);
    if (opts.json)
      console.log(JSON.stringify(summaries.length === 1 ? summaries[0] : { scenarios: summaries }));
    if (opts.keepOpen) {
      log(
        `\nTemporal Web UI stays up at ${stack.server.uiUrl}, the rollout dashboard at ${stack.dashboardUrl}/; Ctrl-C to stop.`,
      );
      await new Promise(() => undefined);
    }
    await shutdown(ok ? 0 : 1);
  } catch (err) {
    log(`demo failed: ${(err as Error).stack ?? err}`);
    await shutdown(1);
  }
}

void main();
