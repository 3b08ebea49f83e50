import type { Verdict } from '../../analysis/types';
import type { RolloutEventName } from './events';

/**
 * The rollout's situation when it notified: the activity's NotifyContext, with the phase as plain
 * text, because providers know nothing of workflow types.
 */
export interface AlertContext {
  strategy: 'canary' | 'blue-green';
  stableVersion: string | null;
  canaryVersion: string;
  phase: string;
  /** Index of the stage in progress, -1 before the first. */
  stageIndex: number;
  stages: number;
  /** The new version's traffic share. */
  weight: number;
  verdict: Verdict | null;
}

/** Where a human looks next; each is present only when the worker knows the base URL. */
export interface AlertLinks {
  webUi?: string;
  dashboard?: string;
}

/** Everything an alert body is built from: what the workflow said, and where to look. */
export interface RolloutAlert {
  service: string;
  event: RolloutEventName;
  message: string;
  workflowId: string;
  namespace: string;
  /** Null for histories from before the workflow passed it: bodies then carry what there is. */
  context: AlertContext | null;
  links: AlertLinks;
  /** When the workflow asked for the alert (ISO 8601): the same on every retry, so receivers can dedupe. */
  at: string;
}
