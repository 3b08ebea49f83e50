import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import type { CliRun } from '../helpers/cli';

// Issue 9, section 4: usage errors exit 2 as the README documents, and `-f -` reads stdin. None of
// these reach Temporal (the address points nowhere, so a connection attempt would exit 4).

const CLI = resolve(__dirname, '..', '..', 'bin', 'rollout.js');

function rollout(args: string[], stdin?: string | Buffer): Promise<CliRun> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => done({ code, stdout, stderr }));
    // The CLI may exit before reading everything (a too-large stdin): that is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

const spec = {
  service: 'checkout',
  stable: { version: 'v1', targets: ['http://127.0.0.1:8001'] },
  canary: { version: 'v2', targets: ['http://127.0.0.1:8002'] },
};

describe('usage errors exit 2, as the README documents', () => {
  test('a missing -f exits 2', async () => {
    const run = await rollout(['start', 'canary']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /required option '-f, --file <spec>'/);
  });

  test('an unknown flag exits 2', async () => {
    const run = await rollout(['start', 'canary', '-f', '-', '--bogus']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /unknown option '--bogus'/);
  });

  test('an unknown strategy exits 2', async () => {
    const run = await rollout(['start', 'rolling', '-f', 'spec.yaml']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /unknown command 'rolling'/);
  });

  test('no command at all exits 2; --help exits 0', async () => {
    assert.equal((await rollout([])).code, 2);
    assert.equal((await rollout(['--help'])).code, 0);
  });
});

describe('-f - reads the spec from stdin', () => {
  test('a valid spec on stdin passes --dry-run', async () => {
    const run = await rollout(['start', 'canary', '-f', '-', '--dry-run', '--json'], stringify(spec));
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { service: string }).service, 'checkout');
  });

  test('an invalid spec on stdin exits 2, naming (stdin) and the field', async () => {
    const run = await rollout(
      ['start', 'canary', '-f', '-', '--dry-run'],
      JSON.stringify({ ...spec, service: 'Bad' }),
    );
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /invalid rollout spec \(stdin\)/);
    assert.match(run.stderr, /service:/);
  });

  test('stdin has the same 1 MiB limit as a file', async () => {
    const run = await rollout(
      ['start', 'canary', '-f', '-', '--dry-run'],
      Buffer.alloc(3 * 1024 * 1024, 'a'),
    );
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /larger than 1048576 bytes/);
  });

  test('-f /dev/zero is refused at once: not a regular file', async () => {
    const run = await rollout(['start', 'blue-green', '-f', '/dev/zero', '--dry-run']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /not a regular file/);
  });
});
