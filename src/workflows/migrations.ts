import { condition } from '@temporalio/workflow';
import type { LintFinding } from '../migrations/lint';
import type { RolloutCore } from '../spec/rollout-core';
import { forward, migrating } from './activity-stubs';
import type { Control } from './control';
import { record, touch } from './control';
import { failureText } from './failure-text';
import type { MigrationState, RolloutState } from './state';

/** One line per finding, as the CLI prints them: where, and why the old version breaks. */
function findingLines(findings: LintFinding[]): string {
  return findings.map((f) => `${f.file}:${f.line}: ${f.rule} — ${f.why}`).join('; ');
}

function migrationOf(state: RolloutState, spec: RolloutCore): MigrationState {
  state.migration ??= {
    phase: 'pending',
    hasContract: spec.migrations?.contract !== undefined,
    expand: null,
    contract: null,
    contractAt: null,
  };
  return state.migration;
}

/**
 * Lints, then runs the expand step, before the new version is deployed: its health checks and
 * smoke tests may already need the new schema, and expand only adds what the old version ignores.
 * Returns why the rollout must stop (nothing has moved yet), or null to go on.
 */
export async function expandBeforeTraffic(spec: RolloutCore, state: RolloutState): Promise<string | null> {
  const migrations = spec.migrations;
  if (!migrations) return null;
  const migration = migrationOf(state, spec);
  const { findings } = await forward.checkMigrations({ migrations });
  if (findings.length > 0) {
    const lines = findingLines(findings);
    if (migrations.allowBreaking === undefined) {
      migration.phase = 'failed';
      record(
        state,
        'migration',
        `refused: expand would break ${state.stableVersion ?? 'the old version'}: ${lines}`,
        {
          findings,
        },
      );
      return `expand migrations would break the old version (${findings.length} finding${findings.length === 1 ? '' : 's'})`;
    }
    record(state, 'migration', `allowBreaking: "${migrations.allowBreaking}" lets through: ${lines}`, {
      findings,
      allowBreaking: migrations.allowBreaking,
    });
  }
  state.phase = 'migrating';
  migration.phase = 'expanding';
  touch(state);
  try {
    const result = await migrating.runMigrationStep({ service: spec.service, step: 'expand', migrations });
    migration.expand = { applied: result.applied, skipped: result.skipped };
    migration.phase = 'expanded';
    record(state, 'migration', `expand: ${stepSummary(result)}`, result);
    return null;
  } catch (err) {
    migration.phase = 'failed';
    record(state, 'migration', `expand failed: ${failureText(err)}`);
    return `expand migration failed: ${failureText(err)}`;
  }
}

function stepSummary(result: { applied: string[]; skipped: string[]; ms: number }): string {
  const applied = result.applied.length > 0 ? `applied ${result.applied.join(', ')}` : 'nothing to apply';
  const skipped = result.skipped.length > 0 ? `; already applied: ${result.skipped.join(', ')}` : '';
  return `${applied}${skipped} (${result.ms} ms)`;
}

/**
 * After promotion and stabilization: waits out contractAfter on a durable timer (an abort cancels
 * the contract, never the promotion), then runs the contract step. A failed contract leaves the
 * promotion standing; the schema is merely still expanded, which both versions tolerate.
 */
export async function contractAfterPromotion(
  spec: RolloutCore,
  state: RolloutState,
  control: Control,
): Promise<void> {
  const migrations = spec.migrations;
  if (!migrations?.contract) return;
  const migration = migrationOf(state, spec);
  const delayMs = migrations.contractAfter;
  migration.contractAt = new Date(Date.now() + delayMs).toISOString();
  state.phase = 'awaiting-contract';
  migration.phase = 'awaiting-contract';
  record(state, 'migration', `contract runs at ${migration.contractAt} (contractAfter ${delayMs / 1000}s)`);
  const aborted =
    delayMs > 0 ? await condition(() => control.abortRequested, delayMs) : control.abortRequested;
  if (aborted) {
    migration.phase = 'contract-cancelled';
    record(state, 'migration', `contract cancelled: ${state.abortReason ?? 'aborted'}`);
    return;
  }
  state.phase = 'contracting';
  migration.phase = 'contracting';
  touch(state);
  try {
    const result = await migrating.runMigrationStep({ service: spec.service, step: 'contract', migrations });
    migration.contract = { applied: result.applied, skipped: result.skipped };
    migration.phase = 'contracted';
    record(state, 'migration', `contract: ${stepSummary(result)}`, result);
  } catch (err) {
    migration.phase = 'failed';
    record(state, 'migration', `contract failed (the promotion stands): ${failureText(err)}`);
  }
}

/** A rollout that did not promote never contracts: say so where the plan said it would. */
export function cancelContract(state: RolloutState, why: string): void {
  const migration = state.migration;
  if (!migration?.hasContract || ['contracted', 'contract-cancelled', 'failed'].includes(migration.phase))
    return;
  migration.phase = 'contract-cancelled';
  migration.contractAt = null;
  record(state, 'migration', `contract will not run: ${why}`);
}
