import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  authorizedBy,
  originAllowed,
  queryTokenMatches,
  resolveToken,
  SESSION_COOKIE,
  sessionCookie,
  sessionValue,
  tokenProblem,
} from '../../src/dashboard/access';
import { dashboardSettings, httpUrl, portNumber } from '../../src/dashboard/options';
import { ownHostCheck } from '../../src/dashboard/own-hosts';
import { DashboardSettingsError } from '../../src/dashboard/settings-error';

const TOKEN = 'a-token-of-24-characters';
const ENV = 'ROLLOUT_DASHBOARD_TOKEN';

describe('dashboard access: tokens', () => {
  test('a token needs 16 visible ASCII characters; the problem never quotes it', () => {
    assert.equal(tokenProblem(ENV, TOKEN), undefined);
    assert.match(tokenProblem(ENV, 'short-secret') ?? '', /ROLLOUT_DASHBOARD_TOKEN must be at least 16/);
    assert.doesNotMatch(tokenProblem(ENV, 'short-secret') ?? '', /short-secret/);
    assert.match(tokenProblem(ENV, 'sixteen chars with spaces') ?? '', /visible ASCII/);
  });

  test('loopback may run without a token; beyond loopback it may not', () => {
    assert.equal(resolveToken('127.0.0.1', ENV, {}), undefined);
    assert.equal(resolveToken('::1', ENV, {}), undefined);
    assert.equal(resolveToken('localhost', ENV, { [ENV]: '' }), undefined);
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'dashboard.internal']) {
      assert.throws(() => resolveToken(host, ENV, {}), DashboardSettingsError);
      assert.throws(
        () => resolveToken(host, ENV, {}),
        /beyond loopback, without a token: set ROLLOUT_DASHBOARD_TOKEN/,
      );
    }
    assert.equal(resolveToken('0.0.0.0', ENV, { [ENV]: TOKEN }), TOKEN);
  });

  test('the env var is the one --token-env names, and a set token is used on loopback too', () => {
    assert.equal(resolveToken('0.0.0.0', 'MY_TOKEN', { MY_TOKEN: TOKEN }), TOKEN);
    assert.throws(() => resolveToken('0.0.0.0', 'MY_TOKEN', { [ENV]: TOKEN }), /set MY_TOKEN/);
    assert.equal(resolveToken('127.0.0.1', ENV, { [ENV]: TOKEN }), TOKEN);
    assert.throws(() => resolveToken('127.0.0.1', ENV, { [ENV]: 'weak' }), /at least 16/);
  });
});

describe('dashboard access: requests', () => {
  test('a bearer header or the session cookie authorises; anything else does not', () => {
    assert.equal(authorizedBy({ authorization: `Bearer ${TOKEN}` }, TOKEN), 'bearer');
    assert.equal(
      authorizedBy({ cookie: `other=1; ${SESSION_COOKIE}=${sessionValue(TOKEN)}` }, TOKEN),
      'cookie',
    );
    assert.equal(authorizedBy({ authorization: 'Bearer wrong-token-of-some-length' }, TOKEN), null);
    assert.equal(
      authorizedBy({ cookie: `${SESSION_COOKIE}=${TOKEN}` }, TOKEN),
      null,
      'the raw token is not the cookie',
    );
    assert.equal(authorizedBy({ cookie: `x${SESSION_COOKIE}=${sessionValue(TOKEN)}` }, TOKEN), null);
    assert.equal(authorizedBy({}, TOKEN), null);
  });

  test('the session cookie is HttpOnly and SameSite=Strict, and does not hold the token', () => {
    const cookie = sessionCookie(TOKEN);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\//);
    assert.ok(!cookie.includes(TOKEN));
    assert.notEqual(sessionValue(TOKEN), sessionValue(`${TOKEN}x`));
  });

  test('?token= must be the token, as a single string', () => {
    assert.equal(queryTokenMatches(TOKEN, TOKEN), true);
    assert.equal(queryTokenMatches(`${TOKEN}x`, TOKEN), false);
    assert.equal(queryTokenMatches([TOKEN, TOKEN], TOKEN), false);
    assert.equal(queryTokenMatches(undefined, TOKEN), false);
  });

  test('a write must come from the origin the Host header names', () => {
    assert.equal(originAllowed('http://127.0.0.1:8090', '127.0.0.1:8090'), true);
    assert.equal(originAllowed('https://dash.example.com', 'dash.example.com'), true);
    assert.equal(originAllowed('http://[::1]:8090', '[::1]:8090'), true);
    assert.equal(originAllowed('http://127.0.0.1:8091', '127.0.0.1:8090'), false, 'another port');
    assert.equal(originAllowed('http://evil.example', '127.0.0.1:8090'), false);
    assert.equal(originAllowed('null', '127.0.0.1:8090'), false, 'a sandboxed or file page');
    assert.equal(originAllowed(undefined, '127.0.0.1:8090'), false);
    assert.equal(originAllowed('http://127.0.0.1:8090', undefined), false);
  });

  test("Host must be one of the server's own names", () => {
    const loopback = ownHostCheck('127.0.0.1', undefined, () => ['10.0.0.5']);
    assert.equal(loopback('127.0.0.1:8090'), true);
    assert.equal(loopback('localhost:8090'), true);
    assert.equal(loopback('10.0.0.5:8090'), false, 'a loopback bind does not answer to interface names');
    assert.equal(loopback('attacker.example:8090'), false, 'DNS rebinding');
    assert.equal(loopback(undefined), false);

    const wildcard = ownHostCheck('0.0.0.0', 'https://rollouts.example.com/', () => ['10.0.0.5', 'fe80::1']);
    assert.equal(wildcard('10.0.0.5:8090'), true);
    assert.equal(wildcard('[fe80::1]:8090'), true);
    assert.equal(wildcard('rollouts.example.com'), true, 'the public URL behind a proxy');
    assert.equal(wildcard('10.0.0.6:8090'), false);
    assert.equal(ownHostCheck('10.0.0.5', undefined, () => [])('10.0.0.5:8090'), true);
  });
});

describe('dashboard settings', () => {
  const flags = { port: 8090, host: '127.0.0.1', tokenEnv: ENV };

  test('the Web UI URL: the flag, else ROLLOUT_WEB_UI_URL, else the dev server default', () => {
    assert.equal(dashboardSettings(flags, {}).webUiUrl, 'http://localhost:8233');
    assert.equal(
      dashboardSettings(flags, { ROLLOUT_WEB_UI_URL: 'https://temporal.example.com/' }).webUiUrl,
      'https://temporal.example.com',
    );
    assert.equal(
      dashboardSettings({ ...flags, webUiUrl: 'http://ui:8080' }, { ROLLOUT_WEB_UI_URL: 'http://other' })
        .webUiUrl,
      'http://ui:8080',
    );
    assert.throws(
      () => dashboardSettings(flags, { ROLLOUT_WEB_UI_URL: 'javascript:alert(1)' }),
      DashboardSettingsError,
    );
  });

  test('the public URL comes from ROLLOUT_DASHBOARD_URL, the base the alerts link to', () => {
    assert.equal(dashboardSettings(flags, {}).publicUrl, undefined);
    assert.equal(
      dashboardSettings(flags, { ROLLOUT_DASHBOARD_URL: 'https://rollouts.example.com/' }).publicUrl,
      'https://rollouts.example.com',
    );
  });

  test('ports and URLs are checked as flags', () => {
    assert.equal(portNumber('0'), 0);
    assert.equal(portNumber('8090'), 8090);
    for (const bad of ['65536', '-1', '80a', '', '1e3']) assert.throws(() => portNumber(bad), /port number/);
    assert.equal(httpUrl('http://localhost:8233/'), 'http://localhost:8233');
    assert.throws(() => httpUrl('file:///etc/passwd'), /http/);
    assert.throws(() => httpUrl('not a url'), /http/);
  });
});
