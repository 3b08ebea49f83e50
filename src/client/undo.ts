import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { BlueGreenSpec, EnvironmentName } from '../spec/blue-green';
import type { CanarySpec, VersionTarget } from '../spec/canary';
import { hasControlChars } from '../spec/display';
import { serviceName, VERSION_PATTERN } from '../spec/patterns';
import { taskQueueFromEnv, workflowIdForService } from '../spec/workflow-id';
import { abortSignal, stateQuery } from '../workflows/control';
import type { RolloutResult, RolloutState } from '../workflows/state';
import type { undoRollout, UndoRolloutInput } from '../workflows/undo';
import type { UndoEnvironment } from '../workflows/undo-text';
import { searchAttributesFor, START_OPTIONS, startWithAttributes } from './rollouts';

/** The undo workflow's type, as `rollout list` and the Web UI filter it. */
export const UNDO_WORKFLOW_TYPE = 'undoRollout';
/** How many of a service's closed runs an undo looks back over, newest first. */
export const UNDO_LOOKBACK_RUNS = 50;
/** How long `--abort-running` waits for the running rollout to end before giving up. */
export const ABORT_WAIT_MS = 120_000;
const MAX_REASON_CHARS = 500;

/** Nothing to put back, or a version that cannot be put back: exit 2. */
export class UndoInputError extends Error {
  override name = 'UndoInputError';
}

/** Another rollout of the service runs (Temporal's id lock said so): exit 3. */
export class UndoRefusedError extends Error {
  override name = 'UndoRefusedError';
}

/** A version and where it runs: its targets, and what the deploy provider calls its place. */
export interface PlacedVersion {
  target: VersionTarget;
  environment: UndoEnvironment;
}

/** A rollout (or undo) that ended promoted: the version it made live and the one live before. */
export interface PastPromotion {
  workflowId: string;
  runId: string;
  workflowType: string;
  closedAt: string | null;
  strategy: RolloutState['strategy'];
  promoted: PlacedVersion;
  previous: PlacedVersion;
  traffic: UndoRolloutInput['traffic'];
  deploy: UndoRolloutInput['deploy'];
  healthCheck: UndoRolloutInput['healthCheck'];
  notify?: UndoRolloutInput['notify'];
}

/** What an undo will do, before the operator's reason: the workflow input, and why this version. */
export interface UndoPlan {
  input: Omit<UndoRolloutInput, 'reason'>;
  /** One sentence: which run made the live version live, and what was live before it. */
  why: string;
}

export interface RunInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  closedAt: string | null;
}

const place = (version: string, at: { targets: string[]; routes?: string[] | undefined }): VersionTarget => ({
  version,
  targets: [...at.targets],
  ...(at.routes ? { routes: [...at.routes] } : {}),
});

const otherEnvironment = (env: EnvironmentName): EnvironmentName => (env === 'blue' ? 'green' : 'blue');

/**
 * A finished run as a promotion, read from its input (the first history event) and its result;
 * null when it did not promote or is not a rollout. Pure: the unit tests feed it recorded shapes.
 */
export function pastPromotion(
  run: RunInfo,
  input: unknown,
  result: RolloutResult | null,
): PastPromotion | null {
  if (result?.outcome !== 'promoted' || typeof input !== 'object' || input === null) return null;
  const state = result.state;
  const base = { ...run, strategy: state.strategy };
  if (run.workflowType === 'canaryRollout') {
    const { spec } = input as { spec: CanarySpec };
    return {
      ...base,
      promoted: { target: place(spec.canary.version, spec.canary), environment: 'stable' },
      previous: { target: place(spec.stable.version, spec.stable), environment: 'stable' },
      ...configOf(spec),
    };
  }
  if (run.workflowType === 'blueGreenRollout') {
    const { spec } = input as { spec: BlueGreenSpec };
    const envs = state.environments;
    if (!envs || state.stableVersion === null) return null;
    return {
      ...base,
      promoted: { target: place(spec.version, spec.environments[envs.idle]), environment: envs.idle },
      previous: {
        target: place(state.stableVersion, spec.environments[envs.live]),
        environment: envs.live,
      },
      ...configOf(spec),
    };
  }
  if (run.workflowType === UNDO_WORKFLOW_TYPE) {
    // An undo put `to` back in place of `from`: undoing it puts `from` back.
    const undo = input as UndoRolloutInput;
    const toEnvironment = undo.environment ?? 'stable';
    return {
      ...base,
      promoted: { target: undo.to, environment: toEnvironment },
      previous: {
        target: undo.from,
        environment: toEnvironment === 'stable' ? 'stable' : otherEnvironment(toEnvironment),
      },
      ...configOf(undo),
    };
  }
  return null;
}

function configOf(
  source: Pick<PastPromotion, 'traffic' | 'deploy' | 'healthCheck' | 'notify'>,
): Pick<PastPromotion, 'traffic' | 'deploy' | 'healthCheck' | 'notify'> {
  return {
    traffic: source.traffic,
    deploy: source.deploy,
    healthCheck: source.healthCheck,
    ...(source.notify ? { notify: source.notify } : {}),
  };
}

const overlaps = (a: VersionTarget, b: VersionTarget): boolean =>
  a.targets.some((t) => b.targets.includes(t)) || (a.routes ?? []).some((r) => (b.routes ?? []).includes(r));

const runName = (p: PastPromotion): string => `${p.workflowType} run ${p.runId}`;

/**
 * What `rollout undo` puts back (pure). `promotions` are the service's promoted runs, newest first:
 * the newest made the live version live. Without `to`, the version live before it comes back; with
 * `to`, the newest run that had that version (as its new or its old one) says where it ran.
 * Refused (UndoInputError): no promotion, an unknown version, the live version itself, or a version
 * whose targets another version has used since (a health check cannot tell the two apart).
 */
export function pickUndoTarget(service: string, promotions: PastPromotion[], to?: string): UndoPlan {
  const live = promotions[0];
  if (!live) {
    throw new UndoInputError(
      `nothing to undo: no rollout of "${service}" ended promoted in its last ${UNDO_LOOKBACK_RUNS} runs`,
    );
  }
  const from = live.promoted;
  let index = 0;
  let chosen = live.previous;
  if (to !== undefined) {
    if (to === from.target.version) throw new UndoInputError(`${to} is live already: nothing to undo`);
    index = promotions.findIndex((p) => p.promoted.target.version === to || p.previous.target.version === to);
    const found = promotions[index];
    if (!found) {
      throw new UndoInputError(
        `no promoted rollout of "${service}" in its last ${UNDO_LOOKBACK_RUNS} runs had version ${to}`,
      );
    }
    chosen = found.promoted.target.version === to ? found.promoted : found.previous;
  }
  if (chosen.target.version === from.target.version) {
    throw new UndoInputError(`${chosen.target.version} is live already: nothing to undo`);
  }
  // Runs newer than the one that knew `to`, and the live version: none may have used its targets.
  const since = [from, ...promotions.slice(0, index).flatMap((p) => [p.promoted, p.previous])];
  const reused = since.find(
    (p) => p.target.version !== chosen.target.version && overlaps(p.target, chosen.target),
  );
  if (reused) {
    throw new UndoInputError(
      `${chosen.target.version} ran on ${chosen.target.targets.join(', ')}, where ${reused.target.version} has run since: ` +
        `an undo cannot tell the two apart; start a rollout of ${chosen.target.version} instead`,
    );
  }
  // The run that deployed `to` knows how to deploy it again; otherwise the live run's provider.
  const deployedBy =
    promotions.find(
      (p) =>
        p.promoted.target.version === chosen.target.version && overlaps(p.promoted.target, chosen.target),
    ) ?? live;
  const source = promotions[index] ?? live;
  const why =
    to === undefined
      ? `${runName(live)} made ${from.target.version} live over ${chosen.target.version}`
      : `${runName(source)} had ${chosen.target.version} on ${chosen.target.targets.join(', ')}`;
  return {
    why,
    input: {
      service,
      strategy: live.strategy,
      from: from.target,
      to: chosen.target,
      traffic: live.traffic,
      deploy: deployedBy.deploy,
      healthCheck: deployedBy.healthCheck,
      ...(live.notify ? { notify: live.notify } : {}),
      environment: chosen.environment,
      source: { workflowId: source.workflowId, runId: source.runId, why },
    },
  };
}

/** The operator's input, checked before anything is asked of Temporal. */
export function checkUndoArguments(service: string, options: { to?: string; reason?: string }): void {
  if (!serviceName.safeParse(service).success) {
    throw new UndoInputError('service: lowercase letters, digits and "-", at most 63 characters');
  }
  if (options.to !== undefined && !VERSION_PATTERN.test(options.to)) {
    throw new UndoInputError(
      '--to: a version name (letters, digits, ".", "_" and "-", at most 63 characters)',
    );
  }
  const reason = options.reason;
  if (reason !== undefined && (reason.length > MAX_REASON_CHARS || hasControlChars(reason))) {
    throw new UndoInputError(`--reason: at most ${MAX_REASON_CHARS} characters, no control characters`);
  }
}

/** The first history event's input, through the client's own data converter (and codecs, if any). */
async function runInput(client: Client, workflowId: string, runId: string): Promise<unknown> {
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const payload = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return null;
  const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
  let decoded = [payload];
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded[0] ? payloadConverter.fromPayload(decoded[0]) : null;
}

/** The service's promoted runs, newest first, from its last UNDO_LOOKBACK_RUNS completed runs. */
export async function findPastPromotions(client: Client, service: string): Promise<PastPromotion[]> {
  const runs: RunInfo[] = [];
  const query = `WorkflowId = '${workflowIdForService(service)}' AND ExecutionStatus = 'Completed'`;
  for await (const wf of client.workflow.list({ query })) {
    runs.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      workflowType: wf.type,
      closedAt: wf.closeTime?.toISOString() ?? null,
    });
    if (runs.length >= UNDO_LOOKBACK_RUNS) break;
  }
  runs.sort((a, b) => (b.closedAt ?? '').localeCompare(a.closedAt ?? ''));
  const promotions: PastPromotion[] = [];
  for (const run of runs) {
    const handle = client.workflow.getHandle(run.workflowId, run.runId, { followRuns: false });
    const result = (await handle.result()) as RolloutResult | null;
    if (result?.outcome !== 'promoted') continue;
    const promotion = pastPromotion(run, await runInput(client, run.workflowId, run.runId), result);
    if (promotion) promotions.push(promotion);
  }
  return promotions;
}

export async function planUndo(client: Client, service: string, to?: string): Promise<UndoPlan> {
  return pickUndoTarget(service, await findPastPromotions(client, service), to);
}

export interface UndoOptions {
  to?: string;
  reason?: string;
  /** Abort a running rollout of the service first (and wait for it to end). */
  abortRunning?: boolean;
  /** Progress while waiting for an aborted rollout to end, and what the undo was decided on. */
  onProgress?: (line: string) => void;
  abortWaitMs?: number;
  taskQueue?: string;
}

export interface StartedUndo {
  workflowId: string;
  runId: string;
  input: UndoRolloutInput;
  why: string;
  /** The run --abort-running aborted, if any. */
  aborted: { runId: string; type: string } | null;
}

/**
 * Starts `undoRollout` under the service's rollout id with conflict policy FAIL: Temporal refuses
 * it while another rollout of the service runs. With abortRunning, that rollout is aborted, waited
 * for, and the undo planned again (it may have promoted before the abort arrived).
 */
export async function startUndo(
  client: Client,
  service: string,
  options: UndoOptions = {},
): Promise<StartedUndo> {
  checkUndoArguments(service, options);
  const reason = options.reason ?? 'rollout undo';
  const workflowId = workflowIdForService(service);
  const start = async (aborted: StartedUndo['aborted']): Promise<StartedUndo> => {
    const plan = await planUndo(client, service, options.to);
    const input: UndoRolloutInput = { ...plan.input, reason };
    const handle = await startWithAttributes(
      (typedSearchAttributes) =>
        client.workflow.start<typeof undoRollout>(UNDO_WORKFLOW_TYPE, {
          ...START_OPTIONS,
          workflowId,
          taskQueue: options.taskQueue ?? taskQueueFromEnv(),
          args: [input],
          typedSearchAttributes,
          staticSummary: `undo ${service}: ${input.from.version} → ${input.to.version}`,
        }),
      searchAttributesFor(service, input.strategy),
    );
    return { workflowId, runId: handle.firstExecutionRunId, input, why: plan.why, aborted };
  };
  try {
    return await start(null);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    if (!options.abortRunning) {
      throw new UndoRefusedError(
        `another rollout of "${service}" is running (workflow ${workflowId}); ` +
          `wait for it, or abort it and undo with: rollout undo ${service} --abort-running`,
      );
    }
  }
  const aborted = await abortAndWait(client, workflowId, `aborted for undo: ${reason}`, options);
  try {
    return await start(aborted);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    throw new UndoRefusedError(`another rollout of "${service}" started while the undo waited: not undone`);
  }
}

/** Signals abort to the running rollout and waits (bounded) until it has ended. */
async function abortAndWait(
  client: Client,
  workflowId: string,
  reason: string,
  options: UndoOptions,
): Promise<NonNullable<StartedUndo['aborted']>> {
  const progress = options.onProgress ?? (() => undefined);
  // No run id: a long bake that continues as new is followed to the run that really ends.
  const handle = client.workflow.getHandle(workflowId);
  const running = await handle.describe();
  await handle.signal(abortSignal, { reason });
  progress(`abort sent to ${workflowId} (${running.type}, run ${running.runId}): ${reason}`);
  const deadline = Date.now() + (options.abortWaitMs ?? ABORT_WAIT_MS);
  let last = '';
  for (;;) {
    const now = await handle.describe();
    if (now.status.name !== 'RUNNING') {
      progress(`${workflowId} ended: ${now.status.name.toLowerCase()}`);
      return { runId: running.runId, type: running.type };
    }
    if (Date.now() > deadline) {
      throw new UndoRefusedError(
        `${workflowId} has not ended ${Math.round((options.abortWaitMs ?? ABORT_WAIT_MS) / 1000)}s after the abort: not undone`,
      );
    }
    const phase = await handle.query(stateQuery).then(
      (s) =>
        `${s.phase}, ${s.stableVersion ?? '?'} ${s.weights.stable}% / ${s.canaryVersion} ${s.weights.canary}%`,
      () => 'no answer to the state query',
    );
    if (phase !== last) progress(`waiting for ${workflowId} to end: ${(last = phase)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
