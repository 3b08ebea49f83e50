import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSplit } from '../../src/providers/nginx/render-split';
import { runNode } from '../helpers/cli';

const SCRIPT = ['--import', 'tsx', 'src/client/nginx-initial-split.ts'];

describe('npm run nginx:initial-split', () => {
  test('prints the stable-only include file the nginx provider reads back', async () => {
    const run = await runNode([...SCRIPT, '--version', 'v1', '--upstream', 'blue', '--header', 'x-user-id']);
    assert.equal(run.code, 0, run.stderr);
    const split = parseSplit(run.stdout, { variable: 'rollout_upstream', cohort: { header: 'x-user-id' } });
    assert.deepEqual(split, {
      stable: { version: 'v1', targets: [], routes: ['blue'] },
      canary: null,
      canaryWeight: 0,
    });
  });

  test('names that are not plain are refused with usage, exit 2', async () => {
    for (const args of [
      ['--version', 'v1;reload', '--upstream', 'blue'],
      ['--version', 'v1', '--upstream', 'blue}'],
      ['--version', 'v1'],
      ['--version', 'v1', '--upstream', 'blue', '--bogus'],
    ]) {
      const run = await runNode([...SCRIPT, ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /usage: npm run --silent nginx:initial-split/);
      assert.equal(run.stdout, '');
    }
  });
});
