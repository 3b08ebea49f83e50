import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HaproxyTrafficConfig } from '../../spec/traffic';
import { ConfigurationError } from '../errors';
import {
  DRAIN_BITS,
  MAINT_BITS,
  type MapEntry,
  parseMap,
  parseServersState,
  type RuntimeCommand,
  RuntimeApi,
  type ServerState,
} from '../haproxy/runtime-api';
import type { DesiredSplit, TrafficRouter, TrafficSplit, VersionTarget } from './types';

/** HAProxy's largest server weight. */
export const MAX_WEIGHT = 256;

/** Versions-map keys naming the roles; server names start with a letter or digit, never "@". */
const STABLE_KEY = '@stable';
const CANARY_KEY = '@canary';

const READ_BACK = 'haproxy runtime API (show servers state, show map)';

/**
 * Steers one HAProxy backend through the Runtime API. Versions' `routes` are server names in
 * `config.backend`; each version's share is split evenly across its servers.
 *
 * A server with no share goes to `maint`, not to weight 0: weight 0 still takes the users whose
 * affinity cookie names it, maint does not (HAProxy then balances them to a live server and
 * re-issues the cookie), so a rollback moves every canary user at once. The one exception is a
 * canary at 0% with a header route: its servers stay `ready` at weight 0, because a server in
 * maint is skipped by `use-server` too, and the matched testers must still reach it.
 *
 * Every server of either version is labelled with its version in the versions map (the config's
 * x-rollout-version header and the haproxy metrics provider read it), and `@stable`/`@canary`
 * name the roles, so getSplit() reads the whole split back from HAProxy. Runtime changes are lost
 * on a restart, so the maps and the server-state file are also rewritten when they are local.
 */
export class HaproxyTrafficRouter implements TrafficRouter {
  private readonly api: RuntimeApi;

  constructor(private readonly config: HaproxyTrafficConfig) {
    this.api = new RuntimeApi(config.runtimeApi, config.timeout);
  }

  async setSplit(desired: DesiredSplit): Promise<TrafficSplit> {
    const { backend, versionsMap, matchMap } = this.config;
    const matchKey = this.matchKey(desired);
    const [stateAnswer, labelsAnswer, matchAnswer] = await this.api.run(this.reads());
    const servers = this.backendServers(stateAnswer as string);
    const plan = planServers(desired, servers, backend, matchKey !== undefined);
    const labels = parseMap(versionsMap, labelsAnswer as string);

    // Every server of either version keeps its label, also in maint: the metrics provider counts by
    // label, and a rollback or a blue-green switch still reads the old version's window afterwards.
    const wantedLabels = new Map<string, string>();
    for (const target of [desired.stable, desired.canary]) {
      for (const server of target?.routes ?? []) wantedLabels.set(server, target!.version);
    }
    wantedLabels.set(STABLE_KEY, desired.stable.version);
    if (desired.canary) wantedLabels.set(CANARY_KEY, desired.canary.version);
    const unwantedLabels = servers.filter((s) => !wantedLabels.has(s.name)).map((s) => s.name);
    if (!desired.canary) unwantedLabels.push(CANARY_KEY);

    // Order matters to the requests in flight: a server is labelled before it takes traffic, and
    // the live servers are up before the others leave, so no request meets an empty backend.
    await this.api.change(labelChanges(versionsMap, labels, wantedLabels));
    await this.api.change(
      [...plan.live].flatMap(([server, { weight }]): RuntimeCommand[] => [
        ['set', 'weight', `${backend}/${server}`, String(weight)],
        ['set', 'server', `${backend}/${server}`, 'state', 'ready'],
      ]),
    );
    if (matchMap !== undefined) {
      const target = desired.canary?.routes?.[0];
      const wanted = matchKey !== undefined && target !== undefined ? [{ key: matchKey, value: target }] : [];
      await this.replaceMap(matchMap, parseMap(matchMap, matchAnswer as string), wanted);
    }
    await this.api.change(
      plan.maint.map((server) => ['set', 'server', `${backend}/${server}`, 'state', 'maint']),
    );
    await this.api.change(
      unwantedLabels
        .filter((key) => labels.some((e) => e.key === key))
        .map((key) => ['del', 'map', versionsMap, key]),
    );

    await this.saveFiles();
    return this.getSplit();
  }

  async getSplit(): Promise<TrafficSplit> {
    const { versionsMap, matchMap, matchHeader } = this.config;
    const [stateAnswer, labelsAnswer, matchAnswer] = await this.api.run(this.reads());
    const servers = this.backendServers(stateAnswer as string);
    const labels = new Map<string, string>();
    for (const { key, value } of parseMap(versionsMap, labelsAnswer as string)) {
      if (!labels.has(key)) labels.set(key, value);
    }
    const stableVersion = labels.get(STABLE_KEY);
    const canaryVersion = labels.get(CANARY_KEY);

    const live = servers.filter((s) => (s.adminState & MAINT_BITS) === 0);
    const weightOf = (s: ServerState): number => ((s.adminState & DRAIN_BITS) !== 0 ? 0 : s.userWeight);
    for (const server of live) {
      const label = labels.get(server.name);
      if (
        weightOf(server) === 0 ||
        (label !== undefined && (label === stableVersion || label === canaryVersion))
      )
        continue;
      throw new ConfigurationError(
        label === undefined
          ? `server ${this.config.backend}/${server.name} takes traffic but has no version in ${versionsMap}: the split cannot be known`
          : `server ${this.config.backend}/${server.name} takes traffic for version ${label}, which is neither ${STABLE_KEY} (${stableVersion ?? 'unset'}) nor ${CANARY_KEY} (${canaryVersion ?? 'unset'}) in ${versionsMap}`,
      );
    }
    const routesOf = (version: string | undefined): ServerState[] =>
      version === undefined ? [] : live.filter((s) => labels.get(s.name) === version);
    const stableRoutes = routesOf(stableVersion);
    const canaryRoutes = routesOf(canaryVersion);
    const sum = (list: ServerState[]): number => list.reduce((total, s) => total + weightOf(s), 0);
    const total = sum(stableRoutes) + sum(canaryRoutes);
    const canaryPercent = total === 0 ? 0 : Math.round((100 * sum(canaryRoutes)) / total);

    const target = (version: string, routes: ServerState[]): VersionTarget => ({
      version,
      targets: [],
      routes: routes.map((s) => s.name),
    });
    let match: TrafficSplit['match'] = null;
    if (matchMap !== undefined && matchHeader !== undefined) {
      const entries = parseMap(matchMap, matchAnswer as string);
      if (entries.length > 1) {
        throw new ConfigurationError(
          `${matchMap} holds ${entries.length} header routes; this provider keeps at most one`,
        );
      }
      const [entry] = entries;
      // A route to a server in maint is skipped by HAProxy: it is not in force.
      if (entry && live.some((s) => s.name === entry.value))
        match = { headers: { [matchHeader]: entry.key } };
    }
    return {
      stable: stableVersion === undefined ? null : target(stableVersion, stableRoutes),
      canary:
        canaryVersion === undefined || canaryRoutes.length === 0 ? null : target(canaryVersion, canaryRoutes),
      weights: { stable: total === 0 ? 0 : 100 - canaryPercent, canary: canaryPercent },
      match,
      readBack: READ_BACK,
    };
  }

  /** One connection, so the three answers describe the same HAProxy process. */
  private reads(): RuntimeCommand[] {
    const { backend, versionsMap, matchMap } = this.config;
    return [
      ['show', 'servers', 'state', backend],
      ['show', 'map', versionsMap],
      ...(matchMap === undefined ? [] : [['show', 'map', matchMap]]),
    ];
  }

  private backendServers(answer: string): ServerState[] {
    return parseServersState(answer).filter((s) => s.backend === this.config.backend);
  }

  /** The header value that routes testers to the canary, or undefined when there is no header route. */
  private matchKey(desired: DesiredSplit): string | undefined {
    if (desired.match === undefined) return undefined;
    const { matchMap, matchHeader } = this.config;
    if (matchMap === undefined || matchHeader === undefined) {
      throw new ConfigurationError(
        'a header route needs traffic.matchMap and traffic.matchHeader: the map and header the HAProxy config routes testers with',
      );
    }
    const names = Object.keys(desired.match.headers);
    const value = desired.match.headers[matchHeader];
    if (names.length !== 1 || value === undefined) {
      throw new ConfigurationError(
        `the HAProxy config routes testers by the one header ${matchHeader} (traffic.matchHeader); the match asks for ${names.join(', ')}`,
      );
    }
    if (!desired.canary) throw new ConfigurationError('a header route needs a canary to route to');
    return value;
  }

  /** Replaces a whole map at once (prepare, fill, commit), so no request sees it half-written. */
  private async replaceMap(file: string, current: MapEntry[], wanted: MapEntry[]): Promise<void> {
    const same =
      current.length === wanted.length &&
      current.every((e, i) => e.key === wanted[i]?.key && e.value === wanted[i]?.value);
    if (same) return;
    if (wanted.length === 0) return this.api.change([['clear', 'map', file]]);
    const prepare: RuntimeCommand = ['prepare', 'map', file];
    const [answer = ''] = await this.api.run([prepare]);
    const version = /^New version created: (\d+)$/.exec(answer)?.[1];
    if (version === undefined) throw this.api.refused(prepare, answer);
    await this.api.change([
      ...wanted.map(({ key, value }): RuntimeCommand => ['add', 'map', `@${version}`, file, key, value]),
      ['commit', 'map', `@${version}`, file],
    ]);
  }

  /** Writes what HAProxy now holds to the files it reads at start, where they are on this machine. */
  private async saveFiles(): Promise<void> {
    const { versionsMap, matchMap, stateFile } = this.config;
    const maps = [versionsMap, ...(matchMap === undefined ? [] : [matchMap])];
    const answers = await this.api.run([
      ...maps.map((file): RuntimeCommand => ['show', 'map', file]),
      ...(stateFile === undefined ? [] : [['show', 'servers', 'state']]),
    ]);
    for (const [i, file] of maps.entries()) {
      const entries = parseMap(file, answers[i] as string);
      await replaceLocalFile(
        file,
        `# Written by durable-rollouts from HAProxy's runtime state.\n${entries.map((e) => `${e.key} ${e.value}\n`).join('')}`,
      );
    }
    if (stateFile !== undefined) {
      const state = answers[maps.length] as string;
      parseServersState(state);
      await replaceLocalFile(stateFile, `${state}\n`);
    }
  }
}

interface ServerPlan {
  /** Servers that stay up, with their weight and version. */
  live: Map<string, { weight: number; version: string }>;
  /** The backend's other servers. */
  maint: string[];
}

/** Which server gets what; refuses a split that names servers the backend does not have. */
function planServers(
  desired: DesiredSplit,
  servers: ServerState[],
  backend: string,
  headerRoute: boolean,
): ServerPlan {
  const { stable, canary, canaryWeight } = desired;
  if (!Number.isInteger(canaryWeight) || canaryWeight < 0 || canaryWeight > 100) {
    throw new ConfigurationError(`canaryWeight must be an integer from 0 to 100, not ${canaryWeight}`);
  }
  if (!canary && canaryWeight > 0) throw new ConfigurationError('canaryWeight > 0 needs a canary');
  if (canary && canary.version === stable.version) {
    throw new ConfigurationError(`canary and stable are both version ${stable.version}`);
  }
  const known = new Set(servers.map((s) => s.name));
  const routesOf = (target: VersionTarget): string[] => {
    const routes = target.routes ?? [];
    if (routes.length === 0) {
      throw new ConfigurationError(
        `version ${target.version} has no routes: with the haproxy provider they name its servers in backend ${backend}`,
      );
    }
    for (const route of routes) {
      if (!known.has(route)) {
        throw new ConfigurationError(
          `version ${target.version} routes to server ${route}, which backend ${backend} does not have (it has: ${[...known].join(', ') || 'none'})`,
        );
      }
    }
    return [...new Set(routes)];
  };
  const stableRoutes = routesOf(stable);
  const canaryRoutes = canary ? routesOf(canary) : [];
  const shared = canaryRoutes.filter((route) => stableRoutes.includes(route));
  if (shared.length > 0) {
    throw new ConfigurationError(
      `server ${shared.join(', ')} cannot run both ${stable.version} and ${canary?.version}`,
    );
  }

  const weights = versionWeights(canaryWeight, stableRoutes.length, canaryRoutes.length);
  const live: ServerPlan['live'] = new Map();
  if (weights.stable > 0)
    for (const s of stableRoutes) live.set(s, { weight: weights.stable, version: stable.version });
  if (canary && (weights.canary > 0 || headerRoute)) {
    for (const s of canaryRoutes) live.set(s, { weight: weights.canary, version: canary.version });
  }
  return { live, maint: servers.map((s) => s.name).filter((name) => !live.has(name)) };
}

/**
 * The weight of each stable and each canary server for a canary percentage: the read-back
 * share round(100·Σcanary/Σall) is exactly `canaryWeight`. Of the pairs that achieve it, the one
 * closest to the exact ratio wins, then the one with the finest weights.
 */
export function versionWeights(
  canaryWeight: number,
  stableServers: number,
  canaryServers: number,
): { stable: number; canary: number } {
  if (canaryWeight <= 0) return { stable: MAX_WEIGHT, canary: 0 };
  if (canaryWeight >= 100) return { stable: 0, canary: MAX_WEIGHT };
  let best: { stable: number; canary: number; error: number } | undefined;
  const consider = (stable: number, canary: number): void => {
    if (stable < 1 || stable > MAX_WEIGHT || canary < 1 || canary > MAX_WEIGHT) return;
    const share = (100 * canaryServers * canary) / (canaryServers * canary + stableServers * stable);
    if (Math.round(share) !== canaryWeight) return;
    const error = Math.abs(share - canaryWeight);
    if (
      !best ||
      error < best.error - 1e-9 ||
      (error <= best.error + 1e-9 && stable + canary > best.stable + best.canary)
    ) {
      best = { stable, canary, error };
    }
  };
  // For each weight of one side, the nearest weights of the other that give the exact ratio.
  const ratio = (canaryServers * (100 - canaryWeight)) / (stableServers * canaryWeight);
  for (let w = 1; w <= MAX_WEIGHT; w++) {
    for (const stable of [Math.floor(w * ratio), Math.ceil(w * ratio)]) consider(stable, w);
    for (const canary of [Math.floor(w / ratio), Math.ceil(w / ratio)]) consider(w, canary);
  }
  if (!best)
    throw new Error(
      `no HAProxy weights give ${canaryWeight}% over ${stableServers}+${canaryServers} servers`,
    );
  return { stable: best.stable, canary: best.canary };
}

/** set/add for the labels that differ (add only when the key is absent: maps keep duplicates). */
function labelChanges(file: string, current: MapEntry[], wanted: Map<string, string>): RuntimeCommand[] {
  const changes: RuntimeCommand[] = [];
  for (const [key, value] of wanted) {
    const entries = current.filter((e) => e.key === key);
    if (entries.length === 0) changes.push(['add', 'map', file, key, value]);
    else if (entries.some((e) => e.value !== value)) changes.push(['set', 'map', file, key, value]);
  }
  return changes;
}

/**
 * Replaces a file by rename, so HAProxy starting at any moment reads the old or the new one whole.
 * Skipped when its directory is not on this machine: HAProxy then runs elsewhere.
 */
async function replaceLocalFile(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  if (!existsSync(dir)) return;
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const mode = await stat(file).then(
      (s) => s.mode & 0o7777,
      () => 0o644,
    );
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, mode);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw new ConfigurationError(
      `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}
