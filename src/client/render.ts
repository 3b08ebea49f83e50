import type { RolloutState } from '../workflows/state';

const bar = (percent: number, width = 20): string => {
  const filled = Math.round((percent / 100) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
};

/** A short human view of a rollout, for status and watch. */
export function renderState(state: RolloutState, recentDecisions = 5): string {
  // A blue-green rollout learns its old version from the router, a moment after it starts.
  const stable = state.stableVersion ?? '(asking the router)';
  const lines = [
    `${state.service}  ${stable} → ${state.canaryVersion}  [${state.strategy}]  phase: ${state.phase}${state.paused ? ' (PAUSED)' : ''}`,
    `  stable ${stable.padEnd(12)} ${bar(state.weights.stable)} ${state.weights.stable}%`,
    `  canary ${state.canaryVersion.padEnd(12)} ${bar(state.weights.canary)} ${state.weights.canary}%`,
  ];
  if (state.stageIndex >= 0)
    lines.push(
      `  stage ${state.stageIndex + 1}/${state.stageWeights.length} (weights ${state.stageWeights.join(' → ')})`,
    );
  if (state.window) {
    const w = state.window;
    lines.push(
      `  window ${Math.round(w.elapsedMs / 1000)}s of ${Math.round(w.requiredMs / 1000)}s (max ${Math.round(w.maxMs / 1000)}s), ${w.polls} polls`,
    );
  }
  if (state.undo)
    lines.push(
      `  undo: ${state.undo.from} → ${state.undo.to}${state.undo.method ? ` (${state.undo.method})` : ''}: ${state.undo.reason}`,
    );
  if (state.gate) lines.push(`  ${state.gate.label} · before ${state.gate.before}`);
  if (state.migration) lines.push(`  migrations: ${migrationLine(state.migration)}`);
  if (state.lastVerdict) {
    lines.push(`  last verdict: ${state.lastVerdict.result}: ${state.lastVerdict.summary}`);
    // A check that cannot judge yet holds every pass back: say which, and what it waits for.
    for (const check of state.lastVerdict.checks)
      if (check.unarmed !== undefined) lines.push(`  unarmed: ${check.name}: ${check.unarmed}`);
  }
  if (state.outcome)
    lines.push(`  outcome: ${state.outcome}${state.abortReason ? ` (${state.abortReason})` : ''}`);
  lines.push('  decisions:');
  for (const d of recentDecisions > 0 ? state.decisions.slice(-recentDecisions) : [])
    lines.push(`    ${d.at}  ${d.kind.padEnd(10)} ${d.reason}`);
  return lines.join('\n');
}

function migrationLine(m: NonNullable<RolloutState['migration']>): string {
  const applied = (step: { applied: string[]; skipped: string[] } | null, name: string) =>
    step ? ` · ${name}: ${step.applied.length} applied, ${step.skipped.length} already applied` : '';
  const at = m.phase === 'awaiting-contract' && m.contractAt ? ` (contract at ${m.contractAt})` : '';
  return `${m.phase}${at}${applied(m.expand, 'expand')}${applied(m.contract, 'contract')}`;
}

/** One line that changes whenever the rollout moves: what watch prints. */
export function progressLine(state: RolloutState): string {
  const window = state.window
    ? ` window ${Math.round(state.window.elapsedMs / 1000)}/${Math.round(state.window.requiredMs / 1000)}s`
    : '';
  const verdict = state.lastVerdict ? ` · ${state.lastVerdict.result}: ${state.lastVerdict.summary}` : '';
  const share = state.environments
    ? `${state.environments.idle} (${state.canaryVersion}) ${state.weights.canary}%`
    : `canary ${state.weights.canary}%`;
  const gate = state.gate ? ` · ${state.gate.label}` : '';
  const migration = state.migration ? ` · migrations ${state.migration.phase}` : '';
  return `[${state.phase}${state.paused ? ', paused' : ''}] ${share}${window}${gate}${migration}${verdict}`;
}
