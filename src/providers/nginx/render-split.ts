import { createHash } from 'node:crypto';
import { z } from 'zod';
import { issuesText } from '../../spec/errors';
import { versionName } from '../../spec/patterns';
import { type HeaderMatch, headerMatchSchema, type NginxTrafficConfig, routeList } from '../../spec/traffic';
import { ConfigurationError } from '../errors';
import type { DesiredSplit, VersionTarget } from '../traffic/types';

/** The include file's first line: this prefix, then the desired split as JSON. */
export const HEADER_PREFIX = '# durable-rollouts nginx split ';

type RenderConfig = Pick<NginxTrafficConfig, 'variable' | 'cohort'>;

// Everything rendered into nginx syntax is checked here again, whoever built the split: a name
// with a quote, brace or newline would otherwise be nginx syntax.
const versionSchema = z.object({ version: versionName, routes: routeList }).strict();
const appliedSchema = z
  .object({
    stable: versionSchema,
    canary: versionSchema.nullable(),
    // Hundredths at most: split_clients reads two decimals.
    canaryWeight: z
      .number()
      .min(0)
      .max(100)
      .refine((w) => Math.abs(w * 100 - Math.round(w * 100)) < 1e-6, 'at most two decimals (split_clients)'),
    match: headerMatchSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.canaryWeight > 0 && s.canary === null) {
      ctx.addIssue({ code: 'custom', path: ['canary'], message: 'required when canaryWeight > 0' });
    }
    if (s.match && s.canary === null) {
      ctx.addIssue({ code: 'custom', path: ['match'], message: 'a header route needs a canary' });
    }
    if (s.canary && s.canary.version === s.stable.version) {
      ctx.addIssue({
        code: 'custom',
        path: ['canary', 'version'],
        message: 'must differ from stable.version',
      });
    }
  });

/** What the include file records and what it is rendered from: the split without the probe URLs. */
type Applied = z.output<typeof appliedSchema>;

function toApplied(split: DesiredSplit): Applied {
  const side = (v: VersionTarget) => {
    if (!v.routes || v.routes.length === 0) {
      throw new ConfigurationError(
        `version ${v.version} has no routes: nginx routes to upstream names from your config (routes: [...])`,
      );
    }
    return { version: v.version, routes: v.routes };
  };
  const candidate = {
    stable: side(split.stable),
    canary: split.canary ? side(split.canary) : null,
    canaryWeight: split.canaryWeight,
    ...(split.match ? { match: split.match } : {}),
  };
  const parsed = appliedSchema.safeParse(candidate);
  if (!parsed.success)
    throw new ConfigurationError(`cannot render the nginx split: ${issuesText(parsed.error)}`);
  return canonical(parsed.data);
}

/** Fixed key order and sorted headers: the same split always renders to the same bytes. */
function canonical(a: Applied): Applied {
  const sortedHeaders = a.match
    ? { headers: Object.fromEntries(Object.entries(a.match.headers).sort(([x], [y]) => (x < y ? -1 : 1))) }
    : undefined;
  return {
    stable: { version: a.stable.version, routes: [...a.stable.routes] },
    canary: a.canary ? { version: a.canary.version, routes: [...a.canary.routes] } : null,
    canaryWeight: a.canaryWeight,
    ...(sortedHeaders ? { match: sortedHeaders } : {}),
  };
}

/** `share` hundredths of a percent spread over `routes`, the first ones taking the remainder. */
function spread(routes: string[], share: number): [string, number][] {
  const base = Math.floor(share / routes.length);
  const extra = share % routes.length;
  return routes.map((route, i) => [route, base + (i < extra ? 1 : 0)]);
}

/**
 * split_clients hands out hash ranges in line order, so with the canary first a key below 10%
 * is also below 25%: a user in the canary stays in it as the weight grows. The last line is `*`,
 * which also takes the few hashes that 100% (rounded by nginx) would leave out.
 */
function splitLines(a: Applied): string[] {
  const canaryShare = Math.round(a.canaryWeight * 100);
  const entries = [
    ...(a.canary ? spread(a.canary.routes, canaryShare) : []),
    ...spread(a.stable.routes, 10_000 - canaryShare),
  ].filter(([, share]) => share > 0);
  return entries.map(([route, share], i) => {
    const percent = i === entries.length - 1 ? '*' : `${share / 100}%`;
    return `    ${percent.padEnd(7)} ${route};`;
  });
}

/** nginx's map compares strings ignoring case; an anchored regex compares them exactly. */
const exactly = (value: string): string => `"~^${value.replace(/\./g, '\\.')}$"`;
const headerVariable = (name: string): string => `$http_${name.replace(/-/g, '_')}`;

/**
 * One map per header, chained: each one's match passes on to the next header's map, the last
 * one's to the first canary route; any miss falls back to the split.
 */
function matchMaps(match: HeaderMatch, canaryRoute: string, variable: string, split: string): string[] {
  const headers = Object.entries(match.headers);
  const lines: string[] = [];
  headers.forEach(([name, value], i) => {
    const target = i === 0 ? `$${variable}` : `$${variable}_match_${i}`;
    const onMatch = i === headers.length - 1 ? canaryRoute : `$${variable}_match_${i + 1}`;
    lines.push(
      '',
      `map ${headerVariable(name)} ${target} {`,
      `    ${exactly(value)} ${onMatch};`,
      `    default ${split};`,
      '}',
    );
  });
  return lines;
}

/**
 * The split's identity, served by nginx as `$<variable>_split_id`: a URL that returns it shows
 * which split the running workers really apply (the file alone shows only what was accepted).
 */
export function splitId(content: string): string {
  const newline = content.indexOf('\n');
  const header = newline < 0 ? content : content.slice(0, newline);
  return createHash('sha256').update(header).digest('hex').slice(0, 12);
}

function renderApplied(a: Applied, config: RenderConfig): string {
  const { variable } = config;
  const source =
    'cookie' in config.cohort ? `$cookie_${config.cohort.cookie}` : headerVariable(config.cohort.header);
  const cohort = `$${variable}_cohort`;
  const firstCanary = a.canary?.routes[0];
  const matching = a.match && firstCanary !== undefined;
  const split = matching ? `$${variable}_split` : `$${variable}`;
  const header = `${HEADER_PREFIX}${JSON.stringify(a)}`;
  return [
    header,
    '# Written by durable-rollouts; not to be edited: a file that differs from its own rendering is refused.',
    '',
    `map $host $${variable}_split_id {`,
    `    default "${splitId(header)}";`,
    '}',
    '',
    // Without a key every request would hash alike and land in one bucket: split per request instead.
    `map ${source} ${cohort} {`,
    `    ""      $request_id;`,
    `    default ${source};`,
    '}',
    '',
    `split_clients "${cohort}" ${split} {`,
    ...splitLines(a),
    '}',
    ...(matching && a.match ? matchMaps(a.match, firstCanary, variable, split) : []),
    '',
  ].join('\n');
}

/** The include file for a split; a ConfigurationError for a split nginx cannot be given. */
export function renderSplit(split: DesiredSplit, config: RenderConfig): string {
  return renderApplied(toApplied(split), config);
}

/**
 * Reads back the split an include file was rendered from. Only a file byte-for-byte equal to the
 * rendering of its own header is trusted: a hand-edited body would route differently from what
 * the header claims.
 */
export function parseSplit(content: string, config: RenderConfig): DesiredSplit {
  const newline = content.indexOf('\n');
  const first = newline < 0 ? content : content.slice(0, newline);
  if (!first.startsWith(HEADER_PREFIX)) {
    throw new ConfigurationError(
      `not written by durable-rollouts: the first line is not "${HEADER_PREFIX}{...}"`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(first.slice(HEADER_PREFIX.length));
  } catch (err) {
    throw new ConfigurationError(`the header line is not JSON: ${(err as Error).message}`);
  }
  const parsed = appliedSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigurationError(`the header line is not a split: ${issuesText(parsed.error)}`);
  const applied = canonical(parsed.data);
  if (renderApplied(applied, config) !== content) {
    throw new ConfigurationError(
      'the file differs from what its header renders to (edited by hand, or rendered for another ' +
        'variable or cohort); the next setSplit rewrites it',
    );
  }
  const side = (v: { version: string; routes: string[] }): VersionTarget => ({ ...v, targets: [] });
  return {
    stable: side(applied.stable),
    canary: applied.canary ? side(applied.canary) : null,
    canaryWeight: applied.canaryWeight,
    ...(applied.match ? { match: applied.match } : {}),
  };
}
