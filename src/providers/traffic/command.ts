import { z } from 'zod';
import { issuesText } from '../../spec/errors';
import type { CommandTrafficConfig } from '../../spec/traffic';
import { headerMatchSchema, routeList } from '../../spec/traffic';
import { versionName } from '../../spec/patterns';
import { ConfigurationError } from '../errors';
import { runArgv } from '../run-argv';
import type { DesiredSplit, TrafficRouter, TrafficSplit } from './types';

const weight = z.number().int().min(0).max(100);
const reportedVersion = z
  .object({ version: versionName, routes: routeList.optional(), targets: z.array(z.string()).optional() })
  .nullable();

/** What the command must print: the split the load balancer applies, as it reports it. */
const appliedSplit = z.object({
  stable: reportedVersion,
  canary: reportedVersion,
  weights: z.object({ stable: weight, canary: weight }),
  match: headerMatchSchema.nullable().optional(),
  readBack: z.string().max(500).optional(),
});

/**
 * Any other load balancer (F5, a cloud CLI, Consul, a script): the user's executable gets
 * `{"action":"set","service"…,"split":{…}}` or `{"action":"get"}` as JSON on stdin and prints the
 * split the load balancer now applies as JSON on stdout. It runs from an argument array, never a
 * shell, with the minimal command environment; exit 2 means "retrying will not help".
 */
export class CommandTrafficRouter implements TrafficRouter {
  constructor(
    private readonly config: CommandTrafficConfig,
    private readonly service = '',
  ) {}

  setSplit(split: DesiredSplit): Promise<TrafficSplit> {
    return this.call({ action: 'set', service: this.service, split });
  }

  getSplit(): Promise<TrafficSplit> {
    return this.call({ action: 'get', service: this.service });
  }

  private async call(request: object): Promise<TrafficSplit> {
    const { command, args, env, timeout } = this.config;
    const { stdout } = await runArgv({
      argv: [command, ...args],
      stdin: `${JSON.stringify(request)}\n`,
      env,
      timeoutMs: timeout,
      maxStdout: 64 * 1024,
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new ConfigurationError(
        `${command} printed no JSON split on stdout: ${JSON.stringify(stdout.slice(0, 200))}`,
      );
    }
    const result = appliedSplit.safeParse(parsed);
    if (!result.success) {
      throw new ConfigurationError(
        `${command} printed a split that is not valid: ${issuesText(result.error, 5)}`,
      );
    }
    const { stable, canary, weights, match, readBack } = result.data;
    const version = (v: typeof stable) =>
      v ? { version: v.version, targets: v.targets ?? [], routes: v.routes } : null;
    return {
      stable: version(stable),
      canary: version(canary),
      weights,
      match: match ?? null,
      readBack: readBack ?? `${command.split('/').pop()} output`,
    };
  }
}
