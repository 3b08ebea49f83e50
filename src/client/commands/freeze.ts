import { type Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import type { FleetFreezeStatus } from '../../schedule/fleet-freeze';
import { hasControlChars, safeText } from '../../spec/display';
import { parseDuration } from '../../spec/duration';
import { MAX_FREEZE_REASON } from '../../spec/schedule';
import { connectClient } from '../connect';
import { freezeFleet, readFleetFreeze, unfreezeFleet } from '../freeze';

const isoWithOffset = z.iso.datetime({ offset: true });

/**
 * --until: an ISO time with an offset or Z, or a duration from now. A bare local time is refused:
 * whose local time it means depends on where the command runs.
 */
export function parseUntil(text: string, nowMs: number = Date.now()): number {
  const ms = parseDuration(text);
  const untilMs =
    ms !== undefined ? nowMs + ms : isoWithOffset.safeParse(text).success ? Date.parse(text) : NaN;
  if (Number.isNaN(untilMs)) {
    throw new InvalidArgumentError(
      `"${safeText(text)}" is neither a duration like 2h or 3d nor an ISO time with an offset, like 2026-12-03T18:00:00Z`,
    );
  }
  if (untilMs <= nowMs) {
    throw new InvalidArgumentError(
      `${new Date(untilMs).toISOString()} has passed: a freeze must end in the future`,
    );
  }
  return untilMs;
}

function reasonText(text: string): string {
  const reason = text.trim();
  if (!reason || reason.length > MAX_FREEZE_REASON || hasControlChars(reason)) {
    throw new InvalidArgumentError(
      `must be 1 to ${MAX_FREEZE_REASON} characters, without control characters`,
    );
  }
  return reason;
}

const jsonOption = () => new Option('--json', 'print machine-readable JSON');
const byOption = () =>
  new Option('--by <name>', 'who is asking (kept in the freeze history)').default(process.env.USER, '$USER');

async function withClient<T>(
  fn: (client: Awaited<ReturnType<typeof connectClient>>['client']) => Promise<T>,
) {
  const connected = await connectClient();
  try {
    return await fn(connected.client);
  } finally {
    await connected.close();
  }
}

function print(json: boolean, value: unknown, human: string): void {
  console.log(json ? JSON.stringify(value) : human);
}

function statusText({ freeze }: FleetFreezeStatus): string {
  if (!freeze) return 'not frozen';
  const by = freeze.by ? ` by ${safeText(freeze.by)}` : '';
  return `frozen until ${freeze.until} (${safeText(freeze.reason)}), since ${freeze.since}${by}`;
}

const told = (ids: string[]) => `; told ${ids.length} running rollout${ids.length === 1 ? '' : 's'}`;

/** `rollout freeze`, `unfreeze` and `freeze-status`: the fleet-wide freeze, for every service at once. */
export function registerFreezeCommands(program: Command): void {
  program
    .command('freeze')
    .description(
      'freeze every rollout of every service: no first traffic and no stage advance until the freeze ends (rollbacks and aborts still run)',
    )
    .requiredOption(
      '--until <time>',
      'when it ends: a duration from now (2h, 3d) or an ISO time like 2026-12-03T18:00:00Z',
      (text) => parseUntil(text),
    )
    .requiredOption(
      '--reason <text>',
      `why (at most ${MAX_FREEZE_REASON} characters; shown by every waiting rollout)`,
      reasonText,
    )
    .addOption(byOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nA later freeze replaces the one in force. It lifts itself at --until; `rollout unfreeze` lifts it early.',
    )
    .action(async (opts: { until: number; reason: string; by?: string; json?: boolean }) =>
      withClient(async (client) => {
        const result = await freezeFleet(client, {
          untilMs: opts.until,
          reason: opts.reason,
          ...(opts.by ? { by: opts.by } : {}),
        });
        print(
          !!opts.json,
          {
            frozen: true,
            until: result.until,
            reason: opts.reason,
            by: opts.by ?? null,
            notified: result.notified,
          },
          `fleet frozen until ${result.until} (${safeText(opts.reason)})${told(result.notified)}`,
        );
      }),
    );

  program
    .command('unfreeze')
    .description('lift the fleet-wide freeze now; waiting rollouts go on if their own schedules allow')
    .option('--reason <text>', 'why (kept in the freeze history)', reasonText)
    .addOption(byOption())
    .addOption(jsonOption())
    .action(async (opts: { reason?: string; by?: string; json?: boolean }) =>
      withClient(async (client) => {
        const result = await unfreezeFleet(client, {
          ...(opts.reason ? { reason: opts.reason } : {}),
          ...(opts.by ? { by: opts.by } : {}),
        });
        const human = result.wasRunning
          ? `fleet unfrozen${told(result.notified)}`
          : 'not frozen (nothing to lift)';
        print(
          !!opts.json,
          { frozen: false, wasRunning: result.wasRunning, notified: result.notified },
          human,
        );
      }),
    );

  program
    .command('freeze-status')
    .description('show the fleet-wide freeze: "not frozen", or until when, why and since when')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) =>
      withClient(async (client) => {
        const status = await readFleetFreeze(client);
        print(!!opts.json, { frozen: status.freeze !== null, ...status }, statusText(status));
      }),
    );
}
