import type { Client } from '@temporalio/client';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { serveDashboard } from '../dashboard/command';
import {
  DASHBOARD_URL_ENV,
  dashboardSettings,
  DEFAULT_FLAGS,
  type DashboardFlags,
  httpUrl,
  portNumber,
  WEB_UI_URL_ENV,
} from '../dashboard/options';
import { DashboardSettingsError } from '../dashboard/settings-error';
import { SpecError } from '../spec/errors';
import {
  loadSpecDocument,
  loadSpecDocumentFromStream,
  parseBlueGreenSpec,
  parseCanarySpec,
} from '../spec/load';
import type { RolloutState } from '../workflows/state';
import { connectClient, isTemporalUnreachable } from './connect';
import { EXIT, exitCodeFor } from './exit-codes';
import { progressLine, renderState } from './render';
import {
  abortRollout,
  listRollouts,
  pauseRollout,
  readState,
  resumeRollout,
  RolloutAlreadyRunningError,
  promoteRollout,
  startBlueGreen,
  startCanary,
  toWorkflowId,
} from './rollouts';
import { watchRollout } from './watch';
import { registerUndoCommand } from './commands/undo';
import { registerFreezeCommands } from './commands/freeze';
import { registerLintCommand } from './commands/lint';
import { prepareMigrations } from '../migrations/guard';

const jsonOption = new Option('--json', 'print machine-readable JSON');

interface SignalCommand {
  signal: 'pause' | 'resume' | 'promote' | 'abort';
  description: string;
  /** --reason, if the command takes one: whether it must be given, and its help. */
  reason?: { required: boolean; help: string };
  send(client: Client, id: string, reason: string | undefined): Promise<void>;
}

/** The commands that only send a signal: one row each, the same options and output for all. */
const SIGNAL_COMMANDS: readonly SignalCommand[] = [
  {
    signal: 'pause',
    description: 'stop advancing; automated rollback keeps guarding',
    reason: { required: false, help: 'why' },
    send: (client, id, reason) => pauseRollout(client, id, reason),
  },
  {
    signal: 'resume',
    description: 'continue a paused rollout',
    send: (client, id) => resumeRollout(client, id),
  },
  {
    signal: 'promote',
    description: 'blue-green: pass the manual gate and switch; canary: end the current stage now',
    send: (client, id) => promoteRollout(client, id),
  },
  {
    signal: 'abort',
    description: 'roll back now: stable gets 100%',
    reason: { required: true, help: 'why (kept in the rollout state)' },
    // commander refuses the command without --reason, so it is always set here.
    send: (client, id, reason) => abortRollout(client, id, reason ?? ''),
  },
];

function print(json: boolean, value: unknown, human: string): void {
  console.log(json ? JSON.stringify(value) : human);
}

async function withClient<T>(
  fn: (client: Awaited<ReturnType<typeof connectClient>>['client']) => Promise<T>,
): Promise<T> {
  const connected = await connectClient();
  try {
    return await fn(connected.client);
  } finally {
    await connected.close();
  }
}

interface StartOptions {
  file: string;
  wait?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

interface Starter<S> {
  parse(document: unknown, source: string): S;
  start(client: Client, spec: S): Promise<{ workflowId: string; firstExecutionRunId: string }>;
}

/** `-f -` is stdin (with the same size limit as a file), anything else a file path. */
async function readSpec<S>(file: string, starter: Starter<S>): Promise<S> {
  // Embeds the SQL files named next to the spec and refuses a breaking expand: dry runs too.
  if (file === '-') {
    return prepareMigrations(starter.parse(await loadSpecDocumentFromStream(process.stdin), '(stdin)'), file);
  }
  return prepareMigrations(starter.parse(loadSpecDocument(file), file), file);
}

/** Validates first (an invalid spec never reaches Temporal), then starts and optionally follows. */
async function startAndFollow<S>(opts: StartOptions, starter: Starter<S>): Promise<void> {
  const spec = await readSpec(opts.file, starter);
  if (opts.dryRun) return print(!!opts.json, spec, JSON.stringify(spec, null, 2));
  await withClient(async (client) => {
    const handle = await starter.start(client, spec);
    const runId = handle.firstExecutionRunId;
    print(
      !!opts.json && !opts.wait,
      { workflowId: handle.workflowId, runId },
      `started ${handle.workflowId}`,
    );
    if (!opts.wait) return;
    const state = await followToEnd(client, handle.workflowId, !!opts.json);
    print(!!opts.json, { workflowId: handle.workflowId, outcome: state.outcome, state }, renderState(state));
    process.exitCode = exitCodeFor(state);
  });
}

async function followToEnd(
  client: Parameters<typeof watchRollout>[0],
  id: string,
  json: boolean,
): Promise<RolloutState> {
  return watchRollout(client, id, (state) => {
    if (!json) console.log(`${new Date().toISOString().slice(11, 19)} ${progressLine(state)}`);
  });
}

export function buildCli(): Command {
  const program = new Command('rollout')
    .description('Canary and blue-green rollouts as durable Temporal workflows')
    // Throw instead of exiting, so runCli maps a usage error to exit 2 as documented (commander
    // exits 1). Subcommands inherit this: it must come before any .command().
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      'after',
      `\nExit codes: 0 promoted (or command done), 1 rolled back/aborted/failed, 2 invalid input, 3 already running, 4 Temporal unreachable.\nConnection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_PROFILE; task queue: ROLLOUT_TASK_QUEUE.`,
    );

  const start = program.command('start').description('start a rollout');
  const startCommand = <S>(strategy: 'canary' | 'blue-green', description: string, starter: Starter<S>) =>
    start
      .command(strategy)
      .description(description)
      .requiredOption('-f, --file <spec>', 'rollout spec (YAML or JSON); - reads it from stdin')
      .option('--wait', 'follow the rollout until it ends; exit 0 only when promoted')
      .option('--dry-run', 'validate the spec and print it with defaults, start nothing')
      .addOption(jsonOption)
      .action(async (opts: StartOptions) => startAndFollow(opts, starter));
  startCommand('canary', 'shift traffic to a new version stage by stage', {
    parse: parseCanarySpec,
    start: (client, spec) => startCanary(client, spec),
  });
  startCommand('blue-green', 'deploy to the idle environment, validate it, then switch all traffic', {
    parse: parseBlueGreenSpec,
    start: (client, spec) => startBlueGreen(client, spec),
  });

  program
    .command('status <id>')
    .description('show a rollout (workflow id or service name)')
    .addOption(jsonOption)
    .action(async (id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const state = await readState(client, id);
        print(!!opts.json, state, renderState(state, 10));
      }),
    );

  program
    .command('watch <id>')
    .description('follow a rollout live until it ends; exit 0 only when promoted')
    .addOption(jsonOption)
    .action(async (id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const state = await followToEnd(client, id, !!opts.json);
        print(!!opts.json, state, renderState(state));
        process.exitCode = exitCodeFor(state);
      }),
    );

  for (const command of SIGNAL_COMMANDS) {
    const signalCommand = program.command(`${command.signal} <id>`).description(command.description);
    const { reason } = command;
    if (reason?.required) signalCommand.requiredOption('--reason <text>', reason.help);
    else if (reason) signalCommand.option('--reason <text>', reason.help);
    signalCommand.addOption(jsonOption);
    signalCommand.action(async (id: string, opts: { reason?: string; json?: boolean }) =>
      withClient(async (client) => {
        await command.send(client, id, opts.reason);
        const workflowId = toWorkflowId(id);
        print(!!opts.json, { workflowId, signal: command.signal }, `${command.signal} sent to ${workflowId}`);
      }),
    );
  }

  program
    .command('list')
    .description('list rollouts, newest first')
    .option('--limit <n>', 'at most this many', positiveInteger, 50)
    .addOption(jsonOption)
    .action(async (opts: { limit: number; json?: boolean }) =>
      withClient(async (client) => {
        const rows = await listRollouts(client, opts.limit);
        const human = rows
          .map((r) => `${r.workflowId.padEnd(32)} ${r.status.padEnd(12)} ${r.startTime}`)
          .join('\n');
        print(!!opts.json, rows, human || 'no rollouts');
      }),
    );

  registerUndoCommand(program);
  registerFreezeCommands(program);
  registerLintCommand(program);

  program
    .command('dashboard')
    .description(
      'serve a web page: rollouts, their plots and decisions, and pause/resume/abort/promote buttons',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', portNumber, DEFAULT_FLAGS.port)
    .option(
      '--host <address>',
      'interface to listen on; beyond loopback a token is required',
      DEFAULT_FLAGS.host,
    )
    .option('--token-env <name>', 'env var holding the access token (16+ characters)', DEFAULT_FLAGS.tokenEnv)
    .option(
      '--web-ui-url <url>',
      `Temporal Web UI to link to (default: $${WEB_UI_URL_ENV} or http://localhost:8233)`,
      httpUrl,
    )
    .option(
      '--public-url <url>',
      `the URL people reach it by, behind a proxy (default: $${DASHBOARD_URL_ENV})`,
      httpUrl,
    )
    .action(async (flags: DashboardFlags) => {
      // Before connecting: a dashboard that may not start needs no Temporal to say so.
      const settings = dashboardSettings(flags, process.env);
      await withClient((client) => serveDashboard(client, settings));
    });

  return program;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (and help) already. --help and --version exit 0; every
      // other case (a missing -f, an unknown flag or strategy, no command at all) is a usage error.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.invalidInput;
    } else if (err instanceof SpecError || err instanceof DashboardSettingsError) {
      console.error(err.message);
      process.exitCode = EXIT.invalidInput;
    } else if (err instanceof RolloutAlreadyRunningError) {
      console.error(`refused: ${err.message}`);
      process.exitCode = EXIT.alreadyRunning;
    } else {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = isTemporalUnreachable(err) ? EXIT.unavailable : EXIT.notPromoted;
    }
  }
}

if (require.main === module) void runCli(process.argv);
