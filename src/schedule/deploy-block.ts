import type { ScheduleConfig } from '../spec/schedule';
import { activeFreeze, type FleetFreeze } from './fleet-freeze';
import { localLabel, openingLabel } from './labels';
import { inWindow, nextWindowOpening } from './windows';
import { DAY_MS } from './zoned-time';

/*
 * Whether a rollout may take its next traffic step now. PURE: it runs inside the workflow sandbox,
 * so the clock comes in as `nowMs` and time zones come from Intl only.
 */

export interface DeployBlock {
  reason: 'outside-window' | 'spec-freeze' | 'fleet-freeze';
  /** The first instant at or after now that is in a window and outside every freeze; null: none within a year. */
  opensAtMs: number | null;
  label: string;
}

/** How far ahead an opening is looked for; beyond it the schedule is reported as shut. */
export const HORIZON_MS = 400 * DAY_MS;

interface Interval {
  fromMs: number;
  untilMs: number;
  reason: string;
}

/** What holds a rollout back, all in instants. */
interface Blockers {
  timeZone: string;
  windows: NonNullable<ScheduleConfig['windows']> | undefined;
  freezes: Interval[];
  fleet: FleetFreeze | null;
}

function blockersOf(
  schedule: ScheduleConfig | undefined,
  fleet: FleetFreeze | null,
  nowMs: number,
): Blockers {
  const freezes = (schedule?.freezes ?? []).map((f) => ({
    fromMs: Date.parse(f.from),
    untilMs: Date.parse(f.until),
    reason: f.reason,
  }));
  const inForce = activeFreeze(fleet, nowMs);
  if (inForce)
    freezes.push({ fromMs: -Infinity, untilMs: Date.parse(inForce.until), reason: inForce.reason });
  return { timeZone: schedule?.timezone ?? 'UTC', windows: schedule?.windows, freezes, fleet: inForce };
}

/** The latest end among the freezes in force at `ms`, or null when none is. */
function frozenUntil(freezes: readonly Interval[], ms: number): number | null {
  let until: number | null = null;
  for (const f of freezes)
    if (f.fromMs <= ms && ms < f.untilMs) until = Math.max(until ?? -Infinity, f.untilMs);
  return until;
}

/**
 * The first instant at or after `nowMs` in a window and outside every freeze. Each step lands on
 * the end of a freeze or the opening of a window, so a handful of steps settles it; the step bound
 * only guards against a schedule built to make it loop.
 */
function nextOpening(blockers: Blockers, nowMs: number): number | null {
  const limitMs = nowMs + HORIZON_MS;
  let t = nowMs;
  for (let step = 0; step < 4 * (blockers.freezes.length + 2); step++) {
    if (t > limitMs) return null;
    const until = frozenUntil(blockers.freezes, t);
    if (until !== null) {
      t = until;
      continue;
    }
    const { windows, timeZone } = blockers;
    if (!windows || inWindow(windows, timeZone, t)) return t;
    const opening = nextWindowOpening(windows, timeZone, t, limitMs);
    if (opening === null) return null;
    t = opening;
  }
  return null;
}

/**
 * Null when the rollout may go on at `nowMs`; otherwise what holds it (a fleet freeze first, then
 * the spec's freezes, then its windows), when it may go on, and a line for the state and the UI.
 */
export function deployBlock(
  schedule: ScheduleConfig | undefined,
  fleet: FleetFreeze | null,
  nowMs: number,
): DeployBlock | null {
  const blockers = blockersOf(schedule, fleet, nowMs);
  const { timeZone } = blockers;
  const specFrozenUntil = frozenUntil(blockers.freezes.slice(0, schedule?.freezes?.length ?? 0), nowMs);
  const outside = !!blockers.windows && !inWindow(blockers.windows, timeZone, nowMs);
  if (!blockers.fleet && specFrozenUntil === null && !outside) return null;

  const opensAtMs = nextOpening(blockers, nowMs);
  const opening = openingLabel(opensAtMs, nowMs, timeZone);
  // A freeze's end is not always the opening (it may end outside a window): then both are said.
  const thenOpens = (untilMs: number) => (opensAtMs === untilMs ? '' : `; ${opening}`);
  if (blockers.fleet) {
    const untilMs = Date.parse(blockers.fleet.until);
    return {
      reason: 'fleet-freeze',
      opensAtMs,
      label: `waiting: fleet freeze until ${localLabel(untilMs, timeZone, true)} (${blockers.fleet.reason})${thenOpens(untilMs)}`,
    };
  }
  if (specFrozenUntil !== null) {
    const freeze = blockers.freezes.find((f) => f.untilMs === specFrozenUntil && f.fromMs <= nowMs);
    return {
      reason: 'spec-freeze',
      opensAtMs,
      label: `waiting: freeze "${freeze?.reason ?? ''}" until ${localLabel(specFrozenUntil, timeZone, true)}${thenOpens(specFrozenUntil)}`,
    };
  }
  return { reason: 'outside-window', opensAtMs, label: `waiting for deploy window (${opening})` };
}
