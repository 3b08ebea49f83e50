import type { CheckEvidence, VerdictResult, VersionMetrics } from '../../analysis/types';
import type { AlertLinks, RolloutAlert } from './alert';
import { alertOneLiner } from './alert-lines';
import { type HeldCommands, heldCommands } from './commands';
import type { RolloutEventName } from './events';
import { evidenceLine } from './evidence-line';

export interface JsonEvidence {
  result: VerdictResult;
  summary: string;
  /** The failing checks in one human line (evidence-line.ts); null when nothing failed. */
  line: string | null;
  checks: CheckEvidence[];
  canary: Pick<VersionMetrics, 'requests' | 'errors' | 'p99Ms'>;
  baseline: Pick<VersionMetrics, 'requests' | 'errors' | 'p99Ms'>;
}

/**
 * The generic webhook body. `service`, `event`, `message`, `workflowId` and `text` are what the
 * bare webhook always sent; the rest is null when the workflow passed no context (older histories).
 */
export interface JsonEventBody {
  event: RolloutEventName;
  service: string;
  workflowId: string;
  namespace: string;
  message: string;
  text: string;
  strategy: 'canary' | 'blue-green' | null;
  stableVersion: string | null;
  canaryVersion: string | null;
  phase: string | null;
  /** 1-based stage in progress; null before the first and without context. */
  stage: number | null;
  stages: number | null;
  /** The new version's traffic share. */
  weight: number | null;
  evidence: JsonEvidence | null;
  links: AlertLinks;
  /** Only on `held`: what a human runs next. */
  commands?: HeldCommands;
  at: string;
}

const counts = ({ requests, errors, p99Ms }: VersionMetrics) => ({ requests, errors, p99Ms });

export function jsonEventBody(alert: RolloutAlert): JsonEventBody {
  const { context } = alert;
  const verdict = context?.verdict ?? null;
  return {
    event: alert.event,
    service: alert.service,
    workflowId: alert.workflowId,
    namespace: alert.namespace,
    message: alert.message,
    text: alertOneLiner(alert),
    strategy: context?.strategy ?? null,
    stableVersion: context?.stableVersion ?? null,
    canaryVersion: context?.canaryVersion ?? null,
    phase: context?.phase ?? null,
    stage: context && context.stageIndex >= 0 ? context.stageIndex + 1 : null,
    stages: context?.stages ?? null,
    weight: context?.weight ?? null,
    evidence: verdict && {
      result: verdict.result,
      summary: verdict.summary,
      line: evidenceLine(verdict),
      checks: verdict.checks,
      canary: counts(verdict.canary),
      baseline: counts(verdict.baseline),
    },
    links: alert.links,
    ...(alert.event === 'held' ? { commands: heldCommands(alert) } : {}),
    at: alert.at,
  };
}
