import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get, type OutgoingHttpHeaders } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { parseSplit, renderSplit, splitId } from '../../src/providers/nginx/render-split';
import { NginxTrafficRouter } from '../../src/providers/traffic/nginx';
import type { DesiredSplit } from '../../src/providers/traffic/types';
import type { HeaderMatch } from '../../src/spec/traffic';
import { findNginx, type NginxHandle, startNginx, VARIABLE } from '../helpers/nginx';
import { answeringName, type Upstream } from '../helpers/upstream';

const USERS = 400;
const RENDER_CONFIG = { variable: VARIABLE, cohort: { cookie: 'rollout_user' } };

/** A version's server answering its name; it keeps connections longer than nginx's upstream
 * keepalive_timeout, so nginx closes idle connections first. */
async function startVersion(name: string): Promise<Upstream> {
  const upstream = await answeringName(name);
  upstream.server.keepAliveTimeout = 30_000;
  return upstream;
}

interface Answer {
  status: number;
  body: string;
  /** The upstream nginx chose (add_header x-rollout-upstream). */
  upstream: string;
}

/** One request on a fresh connection: a reload's old workers never hold on to it. */
function request(url: string, headers: OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, upstream: String(res.headers['x-rollout-upstream']) }),
      );
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('request timed out')));
  });
}

const cookieOf = (user: string): OutgoingHttpHeaders => ({ cookie: `rollout_user=${user}` });
const users = (prefix: string, count = USERS) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

/** The upstream each user is sent to, 16 requests at a time. */
async function routeUsers(
  url: string,
  list: string[],
  extra: OutgoingHttpHeaders = {},
): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < list.length) {
        const user = list[next++] as string;
        answers.set(user, await request(url, { ...cookieOf(user), ...extra }));
      }
    }),
  );
  return answers;
}

const sentTo = (answers: Map<string, Answer>, upstream: string): string[] =>
  [...answers].filter(([, a]) => a.upstream === upstream).map(([user]) => user);

function desired(
  canaryWeight: number,
  options: { match?: HeaderMatch; canaryRoutes?: string[] } = {},
): DesiredSplit {
  return {
    stable: { version: 'v1', targets: ['http://blue.invalid'], routes: ['blue'] },
    canary: { version: 'v2', targets: ['http://green.invalid'], routes: options.canaryRoutes ?? ['green'] },
    canaryWeight,
    ...(options.match ? { match: options.match } : {}),
  };
}

// A test of its own, so that a missing binary is a plain failure with install instructions (never a skip).
test('nginx is installed', () => {
  findNginx();
});

describe('render-split (no nginx)', () => {
  test('versions without routes are refused', () => {
    const split = desired(10);
    delete split.canary!.routes;
    assert.throws(() => renderSplit(split, RENDER_CONFIG), ConfigurationError);
    assert.throws(
      () =>
        renderSplit({ ...desired(10), stable: { version: 'v1', targets: [], routes: [] } }, RENDER_CONFIG),
      /no routes/,
    );
  });

  test('anything that would be nginx syntax is refused', () => {
    assert.throws(
      () => renderSplit(desired(10, { canaryRoutes: ['green;} server {'] }), RENDER_CONFIG),
      ConfigurationError,
    );
    assert.throws(
      () => renderSplit(desired(0, { match: { headers: { 'x-tester': 'a"b' } } }), RENDER_CONFIG),
      ConfigurationError,
    );
    assert.throws(() => renderSplit(desired(2.555), RENDER_CONFIG), /two decimals/);
    assert.throws(() => renderSplit(desired(101), RENDER_CONFIG), ConfigurationError);
    assert.throws(
      () => renderSplit({ ...desired(0), canary: null, match: { headers: { a: 'b' } } }, RENDER_CONFIG),
      /needs a canary/,
    );
    assert.throws(() => renderSplit({ ...desired(5), canary: null }, RENDER_CONFIG), /canaryWeight > 0/);
  });

  test('weight 0 renders no canary line, 100 no stable line; the last line is always "*"', () => {
    const zero = renderSplit(desired(0), RENDER_CONFIG);
    assert.doesNotMatch(zero, /green;/);
    assert.match(zero, /^ {4}\* +blue;$/m);
    const full = renderSplit(desired(100), RENDER_CONFIG);
    assert.doesNotMatch(full, /blue;/);
    assert.match(full, /^ {4}\* +green;$/m);
    const quarter = renderSplit(desired(25), RENDER_CONFIG);
    assert.match(quarter, /^ {4}25% +green;\n {4}\* +blue;$/m);
  });

  test('parse reads the header back, and only trusts a file equal to its rendering', () => {
    const split = desired(12.5, { match: { headers: { 'x-tester': 'yes', 'x-team': 'qa' } } });
    const text = renderSplit(split, RENDER_CONFIG);
    const back = parseSplit(text, RENDER_CONFIG);
    assert.equal(back.canaryWeight, 12.5);
    assert.deepEqual(back.canary?.routes, ['green']);
    assert.deepEqual(back.match, { headers: { 'x-team': 'qa', 'x-tester': 'yes' } });
    assert.equal(renderSplit(back, RENDER_CONFIG), text, 'a read-back split renders to the same bytes');
    assert.throws(
      () => parseSplit(text.replace('12.5%', '50%'), RENDER_CONFIG),
      /differs from what its header renders/,
    );
    assert.throws(
      () => parseSplit(text, { ...RENDER_CONFIG, variable: 'other' }),
      /another variable or cohort/,
    );
    assert.throws(
      () => parseSplit(`# hand written\n${text}`, RENDER_CONFIG),
      /not written by durable-rollouts/,
    );
  });
});

describe('nginx traffic router against a real nginx', () => {
  let blue: Awaited<ReturnType<typeof startVersion>>;
  let green: Awaited<ReturnType<typeof startVersion>>;
  let nginx: NginxHandle;
  let router: NginxTrafficRouter;
  /** setSplit, then wait until only workers with the new file serve. */
  const apply = (split: DesiredSplit) => nginx.reloaded(() => router.setSplit(split));

  before(async () => {
    blue = await startVersion('blue');
    green = await startVersion('green');
    // green2: a second upstream name for the green servers, for versions with several routes.
    nginx = await startNginx({ upstreams: { blue: blue.url, green: green.url, green2: green.url } });
    router = new NginxTrafficRouter(nginx.configFor());
  });

  after(async () => {
    await nginx?.stop();
    blue?.server.close();
    green?.server.close();
  });

  test('real traffic follows the weight: 0%, 25%, 100%', async () => {
    await apply(desired(0));
    const atZero = await routeUsers(nginx.url, users('weight'));
    assert.equal(sentTo(atZero, 'green').length, 0);
    assert.ok([...atZero.values()].every((a) => a.status === 200 && a.body === 'blue'));

    await apply(desired(25));
    const atQuarter = await routeUsers(nginx.url, users('weight'));
    const canary = sentTo(atQuarter, 'green').length / USERS;
    assert.ok(canary >= 0.15 && canary <= 0.35, `canary share ${canary} at 25%`);
    assert.ok(
      [...atQuarter.values()].every((a) => a.body === a.upstream),
      'each upstream reached its server',
    );

    // Without a cookie every request is split on its own ($request_id), not all into one bucket.
    const anonymous = await Promise.all(Array.from({ length: 200 }, () => request(nginx.url)));
    const anonymousCanary = anonymous.filter((a) => a.upstream === 'green').length / anonymous.length;
    assert.ok(anonymousCanary >= 0.1 && anonymousCanary <= 0.4, `anonymous canary share ${anonymousCanary}`);

    await apply(desired(100));
    const atFull = await routeUsers(nginx.url, users('weight'));
    assert.equal(sentTo(atFull, 'green').length, USERS);
  });

  test('a user in the canary stays in it as the weight grows (10% → 25% → 50%)', async () => {
    const list = users('cohort');
    await apply(desired(10));
    const at10 = sentTo(await routeUsers(nginx.url, list), 'green');
    await apply(desired(25));
    const at25 = new Set(sentTo(await routeUsers(nginx.url, list), 'green'));
    await apply(desired(50));
    const at50 = new Set(sentTo(await routeUsers(nginx.url, list), 'green'));
    assert.ok(
      at10.length > 10 && at25.size > at10.length && at50.size > at25.size,
      `${at10.length} ${at25.size} ${at50.size}`,
    );
    assert.deepEqual(
      at10.filter((u) => !at25.has(u)),
      [],
      'left the canary going from 10% to 25%',
    );
    assert.deepEqual(
      [...at25].filter((u) => !at50.has(u)),
      [],
      'left the canary going from 25% to 50%',
    );
    // And back down: a rollback to 10% gives the same cohort as before.
    await apply(desired(10));
    assert.deepEqual(sentTo(await routeUsers(nginx.url, list), 'green').sort(), [...at10].sort());
  });

  test('header match sends testers to the canary at 0%, and the rule goes when match is absent', async () => {
    const match = { headers: { 'x-tester': 'yes', 'x-team': 'q.a' } };
    await apply(desired(0, { match }));
    const testers = users('tester', 50);
    const both = await routeUsers(nginx.url, testers, { 'x-tester': 'yes', 'x-team': 'q.a' });
    assert.equal(sentTo(both, 'green').length, 50, 'every tester reached the canary');
    const one = await routeUsers(nginx.url, testers, { 'x-tester': 'yes' });
    assert.equal(sentTo(one, 'green').length, 0, 'all headers are needed');
    // Exact values: no case folding, and "." is not a wildcard.
    const near = await routeUsers(nginx.url, testers, { 'x-tester': 'YES', 'x-team': 'qxa' });
    assert.equal(sentTo(near, 'green').length, 0);
    assert.deepEqual((await router.getSplit()).match, { headers: { 'x-team': 'q.a', 'x-tester': 'yes' } });

    await apply(desired(0));
    const after = await routeUsers(nginx.url, testers, { 'x-tester': 'yes', 'x-team': 'q.a' });
    assert.equal(sentTo(after, 'green').length, 0, 'the rule is gone');
    assert.equal((await router.getSplit()).match, null);
  });

  test('getSplit reads back what setSplit applied, naming the file nginx -t accepted', async () => {
    const split = desired(12.5, { match: { headers: { 'x-tester': 'yes' } } });
    const applied = await apply(split);
    const read = await router.getSplit();
    assert.deepEqual(read, applied);
    const { readBack, ...rest } = read;
    assert.deepEqual(rest, {
      stable: { version: 'v1', targets: [], routes: ['blue'] },
      canary: { version: 'v2', targets: [], routes: ['green'] },
      weights: { stable: 87.5, canary: 12.5 },
      match: { headers: { 'x-tester': 'yes' } },
    });
    // The running workers are asked which split they serve (statusUrl); without a status URL the
    // file nginx -t accepted is all there is, and the read-back says so.
    const id = splitId(readFileSync(nginx.includeFile, 'utf8'));
    const { statusUrl } = nginx.configFor();
    assert.equal(readBack, `nginx serves split ${id} (${statusUrl}), rendered in ${nginx.includeFile}`);
    const fileOnly = new NginxTrafficRouter({ ...nginx.configFor(), statusUrl: undefined });
    assert.equal(
      (await fileOnly.getSplit()).readBack,
      `nginx has no runtime read-back of split_clients; read from the include file nginx -t accepted: ${nginx.includeFile} (split ${id})`,
    );
  });

  test('several routes share their version weight, in hundredths of a percent', async () => {
    await apply(desired(50, { canaryRoutes: ['green', 'green2'] }));
    const answers = await routeUsers(nginx.url, users('routes'));
    const share = (name: string) => sentTo(answers, name).length / USERS;
    assert.ok(share('green') > 0.15 && share('green') < 0.35, `green ${share('green')}`);
    assert.ok(share('green2') > 0.15 && share('green2') < 0.35, `green2 ${share('green2')}`);
    assert.ok(share('blue') > 0.4 && share('blue') < 0.6, `blue ${share('blue')}`);
    // nginx -t takes the decimals: 2.5% split as 1.25% + 1.25%.
    await apply(desired(2.5, { canaryRoutes: ['green', 'green2'] }));
    assert.match(readFileSync(nginx.includeFile, 'utf8'), /^ {4}1\.25% +green;\n {4}1\.25% +green2;$/m);
  });

  test('a split nginx -t refuses keeps the last good file byte for byte, with nginx reason', async () => {
    await apply(desired(25));
    const good = readFileSync(nginx.includeFile);
    // A variable the nginx config does not use: the config's proxy_pass names an unset variable.
    const mismatched = new NginxTrafficRouter(nginx.configFor({ variable: 'other_upstream' }));
    await assert.rejects(mismatched.setSplit(desired(50)), (err: Error) => {
      assert.ok(err instanceof ConfigurationError, `${err.name}: ${err.message}`);
      assert.match(err.message, /nginx -t refused the new split, the previous include file is back/);
      assert.match(err.message, /unknown "rollout_upstream\w*" variable/);
      return true;
    });
    assert.deepEqual(readFileSync(nginx.includeFile), good);
    assert.deepEqual(readdirSync(path.dirname(nginx.includeFile)), ['split.conf'], 'no temporary file left');
    assert.equal((await router.getSplit()).weights.canary, 25);
  });

  test('nginx -t cannot catch a route naming no upstream: it becomes a 502 at request time', async () => {
    // Documented in docs/nginx.conf: proxy_pass with a variable is resolved per request.
    await apply(desired(100, { canaryRoutes: ['nosuch'] }));
    const answer = await request(nginx.url, cookieOf('anyone'));
    assert.equal(answer.status, 502);
    assert.equal(answer.upstream, 'nosuch');
    await apply(desired(0));
  });

  test('a failed reload is transient and keeps the checked file, so a restarted nginx applies it', async () => {
    await apply(desired(25));
    const cannotReload = new NginxTrafficRouter(nginx.configFor({ reload: ['/bin/false'] }));
    await assert.rejects(cannotReload.setSplit(desired(75)), (err: Error) => {
      assert.ok(err instanceof TransientError, `${err.name}: ${err.message}`);
      assert.match(err.message, /nginx reload failed; the new include file passed nginx -t and stays/);
      return true;
    });
    // The running nginx still serves the old split, and the read-back says so rather than the file.
    await assert.rejects(router.getSplit(), (err: Error) => {
      assert.ok(err instanceof TransientError, `${err.name}: ${err.message}`);
      assert.match(err.message, /a reload is pending or was lost/);
      return true;
    });
    await nginx.restart();
    assert.equal((await router.getSplit()).weights.canary, 75);
    const list = users('after-failed-reload');
    const share = sentTo(await routeUsers(nginx.url, list), 'green').length / list.length;
    assert.ok(share > 0.6, `the restarted nginx serves the checked 75% split (canary share ${share})`);
    await apply(desired(25));
  });

  test('a restarted nginx keeps the split: the file on disk is the state', async () => {
    const list = users('restart');
    await apply(desired(25));
    const before = sentTo(await routeUsers(nginx.url, list), 'green').sort();
    await nginx.restart();
    assert.equal((await router.getSplit()).weights.canary, 25);
    const after = sentTo(await routeUsers(nginx.url, list), 'green').sort();
    assert.deepEqual(after, before, 'the same users are in the canary after the restart');
  });

  test('setSplit is idempotent: same bytes, and still tested and reloaded', async () => {
    const first = await apply(desired(25));
    const bytes = readFileSync(nginx.includeFile);
    // apply() resolves only once nginx has replaced its workers: the identical split was reloaded.
    const second = await apply(desired(25));
    assert.deepEqual(second, first);
    assert.deepEqual(readFileSync(nginx.includeFile), bytes);
  });

  test('concurrent setSplits on one file run one after another; the last one wins', async () => {
    const other = new NginxTrafficRouter(nginx.configFor());
    const results = await nginx.reloaded(() =>
      Promise.all([router.setSplit(desired(10)), other.setSplit(desired(20)), router.setSplit(desired(30))]),
    );
    assert.deepEqual(
      results.map((r) => r.weights.canary),
      [10, 20, 30],
    );
    assert.equal((await router.getSplit()).weights.canary, 30);
    assert.deepEqual(readdirSync(path.dirname(nginx.includeFile)), ['split.conf']);
  });

  test('a hand-edited file is reported, not trusted; the next setSplit rewrites it', async () => {
    await apply(desired(25));
    const edited = readFileSync(nginx.includeFile, 'utf8').replace('25%', '60%');
    writeFileSync(nginx.includeFile, edited);
    await assert.rejects(router.getSplit(), (err: Error) => {
      assert.ok(err instanceof ConfigurationError);
      assert.match(err.message, /differs from what its header renders/);
      return true;
    });
    await apply(desired(25));
    assert.equal((await router.getSplit()).weights.canary, 25);
  });

  test('a missing include file says how to include it', async () => {
    const missing = path.join(nginx.prefix, 'rollout', 'missing.conf');
    const nowhere = new NginxTrafficRouter(nginx.configFor({ includeFile: missing }));
    await assert.rejects(nowhere.getSplit(), (err: Error) => {
      assert.ok(err instanceof ConfigurationError);
      assert.ok(err.message.includes(`include ${missing};`), err.message);
      assert.match(err.message, /proxy_pass http:\/\/\$rollout_upstream;/);
      return true;
    });
    // A first split that fails its test leaves no file behind, as before.
    const refusing = new NginxTrafficRouter(nginx.configFor({ includeFile: missing, test: ['/bin/false'] }));
    await assert.rejects(
      refusing.setSplit(desired(0)),
      /nginx -t refused the new split, the include file is removed again/,
    );
    assert.deepEqual(readdirSync(path.dirname(missing)), ['split.conf']);
  });

  test('a test that does not finish in time is transient, and the last good file is back', async () => {
    await apply(desired(25));
    const good = readFileSync(nginx.includeFile);
    const slow = new NginxTrafficRouter(nginx.configFor({ test: ['/bin/sleep', '5'], timeout: '200ms' }));
    await assert.rejects(slow.setSplit(desired(50)), (err: Error) => {
      assert.ok(err instanceof TransientError, `${err.name}: ${err.message}`);
      assert.match(
        err.message,
        /nginx -t did not finish, the previous include file is back: .*SIGKILL after/,
      );
      return true;
    });
    assert.deepEqual(readFileSync(nginx.includeFile), good);
  });
});
