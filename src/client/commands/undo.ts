import { type Command, Option } from 'commander';
import { safeText } from '../../spec/display';
import { connectClient } from '../connect';
import { EXIT, exitCodeFor } from '../exit-codes';
import { progressLine, renderState } from '../render';
import { checkUndoArguments, startUndo, type StartedUndo, UndoInputError, UndoRefusedError } from '../undo';
import { watchRollout } from '../watch';

interface UndoFlags {
  to?: string;
  abortRunning?: boolean;
  reason?: string;
  wait?: boolean;
  json?: boolean;
}

const clock = (): string => new Date().toISOString().slice(11, 19);

function plannedText(service: string, started: StartedUndo): string {
  const { input } = started;
  return [
    `undo ${service}: putting ${input.to.version} back in place of ${input.from.version}`,
    `  why: ${started.why}; reason: ${safeText(input.reason)}`,
    `  ${input.to.version} is health-checked first: if it still runs, traffic switches to it at once; if not, it is redeployed (deploy provider "${input.deploy.provider}") and checked again`,
    `started ${started.workflowId} (run ${started.runId})`,
  ].join('\n');
}

/**
 * `rollout undo <service>`: the previous version back at once, without analysis, as a rollout of
 * its own under the service's workflow id (so a running rollout refuses it: exit 3).
 */
export function registerUndoCommand(program: Command): void {
  program
    .command('undo <service>')
    .description(
      'put the previous stable version back at once, skipping analysis; refused while a rollout of the service runs',
    )
    .option('--to <version>', 'put this older version back instead (from an earlier promoted rollout)')
    .option('--abort-running', 'abort a running rollout of the service first, wait for it to end, then undo')
    .option('--reason <text>', 'why (kept in the undo state)')
    .option('--wait', 'follow the undo until it ends; exit 0 only when the version is back')
    .addOption(new Option('--json', 'print machine-readable JSON'))
    .action(async (service: string, flags: UndoFlags) => {
      try {
        // Before connecting: a bad name is exit 2 even with Temporal down.
        checkUndoArguments(service, flags);
        await runUndo(service, flags);
      } catch (err) {
        if (err instanceof UndoInputError) {
          console.error(`undo: ${err.message}`);
          process.exitCode = EXIT.invalidInput;
        } else if (err instanceof UndoRefusedError) {
          console.error(`refused: ${err.message}`);
          process.exitCode = EXIT.alreadyRunning;
        } else throw err;
      }
    });
}

async function runUndo(service: string, flags: UndoFlags): Promise<void> {
  const json = !!flags.json;
  const connected = await connectClient();
  try {
    const started = await startUndo(connected.client, service, {
      ...(flags.to === undefined ? {} : { to: flags.to }),
      ...(flags.reason === undefined ? {} : { reason: flags.reason }),
      abortRunning: !!flags.abortRunning,
      // Progress goes to stderr: stdout stays one JSON value with --json.
      onProgress: (line) => console.error(`${clock()} ${line}`),
    });
    const summary = {
      workflowId: started.workflowId,
      runId: started.runId,
      from: started.input.from.version,
      to: started.input.to.version,
      why: started.why,
      aborted: started.aborted,
    };
    if (json && !flags.wait) console.log(JSON.stringify(summary));
    if (!json) console.log(plannedText(service, started));
    if (!flags.wait) return;
    const state = await watchRollout(connected.client, started.workflowId, (s) => {
      if (!json) console.log(`${clock()} ${progressLine(s)}`);
    });
    console.log(json ? JSON.stringify({ ...summary, outcome: state.outcome, state }) : renderState(state));
    process.exitCode = exitCodeFor(state);
  } finally {
    await connected.close();
  }
}
