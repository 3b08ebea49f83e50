import {
  defineQuery,
  defineSignal,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CanaryWeight, RolloutPhase, RolloutService } from '../spec/search-attributes';
import { scheduleChangedSignal } from './fleet-freeze';
import { publishGauges } from './rollout-metrics';
import type { Decision, DecisionKind, RolloutState } from './state';

// Signals take one object: the Web UI sends exactly one JSON payload.
export interface PauseSignal {
  reason?: string;
}
export type ResumeSignal = Record<string, never> | { reason?: string };
export interface AbortSignal {
  reason?: string;
}
export interface PromoteSignal {
  reason?: string;
}

export const pauseSignal = defineSignal<[PauseSignal?]>('pause');
export const resumeSignal = defineSignal<[ResumeSignal?]>('resume');
export const abortSignal = defineSignal<[AbortSignal?]>('abort');
export const promoteSignal = defineSignal<[PromoteSignal?]>('promote');
export const stateQuery = defineQuery<RolloutState>('state');

/** Mutable control inputs; `seq` changes on every signal so that waits can wake on it. */
export interface Control {
  seq: number;
  abortRequested: boolean;
  /** Consumed by whoever waits on it: the blue-green gate, or the canary's current stage. */
  promoteRequested: boolean;
  /** Changes when `rollout freeze`/`unfreeze` says the deploy windows may have changed. */
  scheduleSeq: number;
}

export function newControl(): Control {
  return { seq: 0, abortRequested: false, promoteRequested: false, scheduleSeq: 0 };
}

export function nowIso(): string {
  // Workflow time: deterministic on replay.
  return new Date(Date.now()).toISOString();
}

export function record(
  state: RolloutState,
  kind: DecisionKind,
  reason: string,
  evidence?: unknown,
): Decision {
  const decision: Decision = {
    at: nowIso(),
    kind,
    stage: state.stageIndex >= 0 ? state.stageIndex : null,
    weight: state.weights.canary,
    reason,
    ...(evidence === undefined ? {} : { evidence }),
  };
  state.decisions.push(decision);
  touch(state);
  return decision;
}

/** Refreshes updatedAt and the one-line summary the Web UI shows. */
export function touch(state: RolloutState): void {
  state.updatedAt = nowIso();
  const stage = state.stageIndex >= 0 ? ` · stage ${state.stageIndex + 1}/${state.stageWeights.length}` : '';
  const windowText = state.window
    ? ` · window ${Math.round(state.window.elapsedMs / 1000)}s/${Math.round(state.window.requiredMs / 1000)}s`
    : '';
  const verdict = state.lastVerdict
    ? ` · last verdict ${state.lastVerdict.result}: ${state.lastVerdict.summary}`
    : '';
  const paused = state.paused ? ` · PAUSED (${state.pauseReason ?? 'by operator'})` : '';
  const gate = state.gate ? ` · ${state.gate.label}` : '';
  const migration = state.migration ? ` · migrations ${state.migration.phase}` : '';
  const envs = state.environments ? ` (${state.environments.live} → ${state.environments.idle})` : '';
  state.details =
    `**${state.service}** ${state.strategy} ${state.stableVersion ?? '(asking the router)'} → ${state.canaryVersion}${envs} · ${state.phase}${stage}` +
    ` · weights old ${state.weights.stable}% / new ${state.weights.canary}%${windowText}${gate}${migration}${paused}${verdict}`;
  setCurrentDetails(state.details);
  publishSearchAttributes(state);
  publishGauges(state);
}

/**
 * Keeps RolloutPhase and CanaryWeight current for filtering in the Web UI. Each upsert is a history
 * event, so only changes are sent; and only when the client could register the attributes at start.
 */
function publishSearchAttributes(state: RolloutState): void {
  const attributes = workflowInfo().typedSearchAttributes;
  if (attributes.get(RolloutService) === undefined) return;
  if (attributes.get(RolloutPhase) === state.phase && attributes.get(CanaryWeight) === state.weights.canary)
    return;
  upsertSearchAttributes([
    { key: RolloutPhase, value: state.phase },
    { key: CanaryWeight, value: state.weights.canary },
  ]);
}

export function installHandlers(state: RolloutState, control: Control): void {
  setHandler(stateQuery, () => state, {
    description:
      'The rollout: phase, stage, weights, paused, every decision with its evidence, and timestamps.',
  });
  setHandler(
    pauseSignal,
    (input) => {
      if (isFinished(state)) return;
      state.paused = true;
      state.pauseReason = input?.reason ?? 'paused by operator';
      control.seq++;
      record(state, 'pause', state.pauseReason);
    },
    {
      description:
        'Stop advancing stages. Automated rollback keeps guarding. Payload: {"reason": "..."} (optional).',
    },
  );
  setHandler(
    resumeSignal,
    () => {
      if (isFinished(state) || !state.paused) return;
      state.paused = false;
      state.pauseReason = null;
      control.seq++;
      record(state, 'resume', 'resumed by operator');
    },
    { description: 'Continue a paused rollout. Payload: {}.' },
  );
  setHandler(
    abortSignal,
    (input) => {
      if (isFinished(state) || control.abortRequested) return;
      control.abortRequested = true;
      state.abortReason = input?.reason ?? 'aborted by operator';
      control.seq++;
      record(state, 'abort', state.abortReason);
    },
    { description: 'Roll back now: stable gets 100%. Payload: {"reason": "..."}.' },
  );
  setHandler(
    promoteSignal,
    (input) => {
      if (isFinished(state) || control.abortRequested) return;
      control.promoteRequested = true;
      control.seq++;
      record(state, 'promote-request', input?.reason ?? 'promote requested by operator');
    },
    {
      description:
        'Blue-green: pass the manual promotion gate and switch. Canary: end the current stage now and move on. Payload: {}.',
    },
  );
  installScheduleHandler(control);
}

/** Waiting deploy-window gates look at the freeze again at once. */
function installScheduleHandler(control: Control): void {
  setHandler(
    scheduleChangedSignal,
    () => {
      control.scheduleSeq++;
    },
    {
      description: 'Sent by rollout freeze/unfreeze: a rollout waiting for a deploy window looks again now.',
    },
  );
}

export function isFinished(state: RolloutState): boolean {
  return state.outcome !== null;
}
