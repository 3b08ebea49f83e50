import type { CheckEvidence } from './types';

/**
 * Which rules judge. 1: a latency check that could not judge yet (an unchosen slow bound, no
 * latency data) did not block a pass; kept only so that histories recorded before revision 2 replay.
 * 2 (current): a stage never passes while any check is unarmed.
 */
export type AnalysisRevision = 1 | 2;

export const CURRENT_REVISION: AnalysisRevision = 2;

/** Why a verdict that would otherwise pass stays inconclusive. */
export function unarmedSummary(unarmed: CheckEvidence[]): string {
  return unarmed.map((c) => `${c.name} check unarmed: ${c.unarmed}`).join('; ');
}
