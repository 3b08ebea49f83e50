import { condition, patched } from '@temporalio/workflow';
import { type DeployBlock, deployBlock } from '../schedule/deploy-block';
import type { RolloutCore } from '../spec/rollout-core';
import { freezeReads } from './activity-stubs';
import { type Control, nowIso, record, touch } from './control';
import { failureText } from './failure-text';
import { DEPLOY_GATES } from './patches';
import type { GateState, Phase, RolloutState, WindowState } from './state';
import type { WatchOutcome } from './watch-window';

export type GateOutcome = 'open' | 'abort' | 'rollback' | 'continue-as-new';

/**
 * While the gate is closed with users already on the new version: keep judging them (a bad canary
 * is rolled back during a freeze like any other time) for at most `ms`, then the gate looks again.
 */
export type GateWatch = (ms: number) => Promise<WatchOutcome>;

/** Waits without traffic to judge look again at least hourly; freeze/unfreeze wake them at once. */
const IDLE_RECHECK_MS = 60 * 60_000;
/** Watched waits look again every 5 minutes: the watch cannot be woken by an unfreeze. */
const WATCHED_RECHECK_MS = 5 * 60_000;
/** A fleet freeze that cannot be read keeps the gate closed; looked at again this often. */
const UNKNOWN_FREEZE_RECHECK_MS = 60_000;

/** A deploy block, or the gate's own: a freeze that cannot be read. */
type GateBlock = Omit<DeployBlock, 'reason'> & { reason: GateState['reason'] };

async function currentBlock(spec: Pick<RolloutCore, 'schedule'>): Promise<GateBlock | null> {
  let fleet;
  try {
    fleet = await freezeReads.readFleetFreeze();
  } catch (err) {
    // Fail closed: a freeze nobody can read may still be in force.
    return {
      reason: 'freeze-unknown',
      opensAtMs: Date.now() + UNKNOWN_FREEZE_RECHECK_MS,
      label: `waiting: cannot read the fleet freeze (${failureText(err)}); looking again in a minute`,
    };
  }
  return deployBlock(spec.schedule, fleet, Date.now());
}

function enterGate(state: RolloutState, block: GateBlock, before: string): void {
  const gate: GateState = {
    reason: block.reason,
    label: block.label,
    opensAt: block.opensAtMs === null ? null : new Date(block.opensAtMs).toISOString(),
    since: state.gate?.since ?? nowIso(),
    before,
  };
  const changed = state.gate?.label !== gate.label || state.gate?.before !== before;
  state.gate = gate;
  state.phase = 'waiting-for-window';
  if (changed) record(state, 'schedule', `${gate.label}; before ${before}`, gate);
  else touch(state);
}

/**
 * The deploy-window gate, before the first traffic and before each stage advance: goes on at once
 * when the spec's windows and freezes and the fleet-wide freeze allow it, and otherwise waits
 * durably until they do. Never delays an abort: that ends the wait at once, and a rollback found
 * by the watch ends it too. Histories from before the gate replay without it.
 */
export async function awaitDeployWindow(
  spec: Pick<RolloutCore, 'schedule' | 'monitoring'>,
  state: RolloutState,
  control: Control,
  before: string,
  watch?: GateWatch,
): Promise<GateOutcome> {
  if (!patched(DEPLOY_GATES)) return 'open';
  const phaseBefore: Phase = state.phase;
  for (;;) {
    if (control.abortRequested) return 'abort';
    const block = await currentBlock(spec);
    if (control.abortRequested) return 'abort';
    if (!block) {
      if (state.gate) {
        state.gate = null;
        state.phase = phaseBefore;
        record(state, 'schedule', `deploy window open: going on with ${before}`);
      }
      return 'open';
    }
    enterGate(state, block, before);
    const untilOpen =
      block.opensAtMs === null ? IDLE_RECHECK_MS : Math.max(1000, block.opensAtMs - Date.now());
    if (watch) {
      const chunk = Math.max(spec.monitoring.interval, Math.min(untilOpen, WATCHED_RECHECK_MS));
      const outcome = await watch(chunk);
      if (outcome !== 'advance') return outcome;
      continue;
    }
    const seen = control.scheduleSeq;
    await condition(
      () => control.abortRequested || control.scheduleSeq !== seen,
      Math.min(untilOpen, IDLE_RECHECK_MS),
    );
  }
}

/**
 * The window a watched gate extends: the stage that just passed keeps accumulating evidence (more
 * data, never a fresh small window that could come out inconclusive), and an inconclusive read is
 * extended rather than held or rolled back, because that stage has already passed.
 */
export function extendedWindow(passed: WindowState, ms: number): WindowState {
  const requiredMs = passed.elapsedMs + ms;
  return { ...passed, requiredMs, maxMs: Math.max(passed.maxMs, requiredMs + 24 * 60 * 60_000) };
}
