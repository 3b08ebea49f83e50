import assert from 'node:assert/strict';
import type { HealthReport } from '../../src/providers/checks/health';
import type { SmokeReport } from '../../src/providers/checks/smoke';
import type { Decision, Outcome, RolloutState } from '../../src/workflows/state';
import type { SplitHistoryEntry, SplitView } from '../../src/router/split';
import { sampleSplits, type Stack } from './stack';

export interface InvariantExpectations {
  outcome: Outcome;
  stableVersion: string;
  canaryVersion: string;
  /** The spec's stage weights; when given, the router's own history must follow them exactly. */
  stages?: number[];
  /** The workflow's final state: versions whose health or smoke decision failed are read from it. */
  state?: RolloutState;
  /** Versions that failed health or smoke, in addition to those found in `state`. */
  failedChecks?: string[];
}

/** Whether a health or smoke decision failed, read from the report it carries as evidence. */
function checkFailed(decision: Decision): boolean {
  if (decision.kind !== 'health' && decision.kind !== 'smoke') return false;
  assert.ok(decision.evidence, `the ${decision.kind} decision carries its report`);
  return decision.kind === 'health'
    ? (decision.evidence as HealthReport).healthy === false
    : (decision.evidence as SmokeReport).passed === false;
}

/** Versions the rollout found unhealthy or failing smoke tests, from its own decisions. */
export function versionsThatFailedChecks(state: RolloutState): string[] {
  return state.decisions.some(checkFailed) ? [state.canaryVersion] : [];
}

/** Consecutive identical router changes are one change in effect (an idempotent retry). */
export function effectiveChanges(history: SplitHistoryEntry[]): SplitHistoryEntry[] {
  const out: SplitHistoryEntry[] = [];
  for (const entry of history) {
    const last = out[out.length - 1];
    if (
      last &&
      last.stableVersion === entry.stableVersion &&
      last.canaryVersion === entry.canaryVersion &&
      last.canaryWeight === entry.canaryWeight
    )
      continue;
    out.push(entry);
  }
  return out;
}

/**
 * Watches one rollout from the router's side: samples /admin/split all along (through sampleSplits)
 * and, at the end, checks what must hold whatever fault was injected:
 * - every sampled split sums to 100;
 * - after any end other than promotion the stable version carries 100% (canary 0 or none); after
 *   promotion the new version carries 100%;
 * - no user request ever reached a version that failed health or smoke (router /admin/stats);
 * - with `stages`: the canary weights the router actually took (retries collapsed) are exactly the
 *   spec's stages in order, up to where the rollout stopped, then 0 on a rollback: none skipped,
 *   none repeated, never back up after going down.
 */
export class InvariantWatch {
  private readonly sampler: ReturnType<typeof sampleSplits>;
  private readonly since = Date.now();

  constructor(
    private readonly stack: Stack,
    everyMs = 100,
  ) {
    this.sampler = sampleSplits(stack, everyMs);
  }

  get samples(): SplitView[] {
    return this.sampler.samples;
  }

  stop(): SplitView[] {
    return this.sampler.stop();
  }

  /** Router changes made since this watch started, retries collapsed. */
  async changes(): Promise<SplitHistoryEntry[]> {
    const stats = await this.stack.stats();
    return effectiveChanges(stats.splitHistory.filter((h) => h.at >= this.since));
  }

  async check(expect: InvariantExpectations): Promise<void> {
    // One more sample after the end, so the final split is among those checked.
    const final = await this.stack.split();
    const samples = [...this.stop(), final];
    assert.ok(samples.length > 1, 'the router was sampled during the rollout');

    samples.forEach((s, i) =>
      assert.equal(s.weights.stable + s.weights.canary, 100, `sample ${i}: weights sum to 100`),
    );

    if (expect.outcome === 'promoted') {
      assert.equal(final.stable?.version, expect.canaryVersion, 'promoted: the new version is stable');
      assert.equal(final.weights.stable, 100, 'promoted: the new version carries 100%');
    } else {
      assert.equal(
        final.stable?.version,
        expect.stableVersion,
        `${expect.outcome}: the old version is stable`,
      );
      assert.deepEqual(final.weights, { stable: 100, canary: 0 }, `${expect.outcome}: stable carries 100%`);
    }

    const stats = await this.stack.stats();
    const failed = new Set([
      ...(expect.failedChecks ?? []),
      ...(expect.state ? versionsThatFailedChecks(expect.state) : []),
    ]);
    for (const version of failed) {
      assert.equal(
        stats.versions[version]?.requests ?? 0,
        0,
        `no user request reached ${version}, which failed health or smoke`,
      );
      assert.ok(
        samples.every((s) => s.canary?.version !== version || s.weights.canary === 0),
        `${version} never had traffic`,
      );
    }

    if (expect.stages) {
      const changes = effectiveChanges(stats.splitHistory.filter((h) => h.at >= this.since));
      const canaryWeights = changes
        .filter((c) => c.stableVersion === expect.stableVersion && c.canaryVersion === expect.canaryVersion)
        .map((c) => c.canaryWeight);
      const rising = canaryWeights.filter((w) => w > 0);
      assert.deepEqual(
        rising,
        expect.stages.slice(0, rising.length),
        `router took the stages in order, none skipped or repeated: ${JSON.stringify(canaryWeights)}`,
      );
      const firstZero = canaryWeights.indexOf(0);
      if (firstZero >= 0) {
        assert.ok(
          canaryWeights.slice(firstZero).every((w) => w === 0),
          `canary traffic never came back after a rollback: ${JSON.stringify(canaryWeights)}`,
        );
      }
      if (expect.outcome === 'promoted') {
        assert.deepEqual(rising, expect.stages, 'promoted after every stage');
        const last = changes[changes.length - 1];
        assert.equal(
          last?.stableVersion,
          expect.canaryVersion,
          'the last change makes the new version stable',
        );
      } else if (rising.length > 0) {
        assert.equal(canaryWeights[canaryWeights.length - 1], 0, 'the last change took the canary to 0');
      }
    }
  }
}

/** The set-weight decisions must follow the stages exactly: then 0 on a rollback, and nothing else. */
export function assertSetWeightDecisions(state: RolloutState, stages: number[]): void {
  const weights = state.decisions.filter((d) => d.kind === 'set-weight').map((d) => d.weight);
  const rising = weights.filter((w) => w > 0);
  assert.deepEqual(rising, stages.slice(0, rising.length), `set-weight decisions ${JSON.stringify(weights)}`);
  if (state.outcome === 'promoted') assert.deepEqual(weights, stages, 'every stage set once, in order');
  else if (rising.length > 0) {
    assert.deepEqual(
      weights.slice(rising.length),
      [0],
      `then exactly one restore to 0: ${JSON.stringify(weights)}`,
    );
  }
}
