import type { AlertContext, RolloutAlert } from './alert';
import { EVENT_COPY } from './events';
import { evidenceLine, numbersLine } from './evidence-line';

/** One labelled line of an alert's body; the message itself goes unlabelled. */
export interface AlertLine {
  label?: 'Evidence' | 'Numbers' | 'Traffic';
  text: string;
}

function trafficLine({ stableVersion, canaryVersion, weight }: AlertContext): string {
  const canary = `${canaryVersion} ${weight}%`;
  return stableVersion === null ? canary : `${stableVersion} ${100 - weight}%, ${canary}`;
}

/** The failing checks' evidence, for an event that leads with it (a rollback, a failure). */
export function alertEvidence({ event, context }: RolloutAlert): string | null {
  return EVENT_COPY[event].evidence ? evidenceLine(context?.verdict ?? null) : null;
}

/**
 * The one-liner for notifications and chat fallbacks: `[checkout] rolled back: <evidence>`. It
 * leads with the evidence when there is some, since the workflow's message then is the judge's
 * long summary.
 */
export function alertOneLiner(alert: RolloutAlert): string {
  return `[${alert.service}] ${EVENT_COPY[alert.event].label}: ${alertEvidence(alert) ?? alert.message}`;
}

/** The body lines the event calls for (events.ts), from what the context holds. */
export function alertLines(alert: RolloutAlert): AlertLine[] {
  const copy = EVENT_COPY[alert.event];
  const { context } = alert;
  const lines: AlertLine[] = [];
  const evidence = alertEvidence(alert);
  if (evidence) lines.push({ label: 'Evidence', text: evidence });
  lines.push({ text: alert.message });
  const numbers = copy.numbers ? numbersLine(context?.verdict ?? null) : null;
  if (numbers) lines.push({ label: 'Numbers', text: numbers });
  if (copy.traffic && context) lines.push({ label: 'Traffic', text: trafficLine(context) });
  return lines;
}

/** `v1 → v2`, or the new version alone on a first deploy. */
export function versionsText({ stableVersion, canaryVersion }: AlertContext): string {
  return stableVersion === null ? canaryVersion : `${stableVersion} → ${canaryVersion}`;
}

/** `stage 2 of 3` for a canary (the split is the traffic line's); null before the first stage and for blue-green. */
export function stageText({ strategy, stageIndex, stages }: AlertContext): string | null {
  if (strategy !== 'canary' || stageIndex < 0 || stages === 0) return null;
  return `stage ${stageIndex + 1} of ${stages}`;
}
