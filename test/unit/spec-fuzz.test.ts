import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { splitUpdateSchema } from '../../src/router/split-schema';
import { SpecError } from '../../src/spec/errors';
import { MAX_DURATION_MS, MAX_URL_LENGTH, MIN_INTERVAL_MS } from '../../src/spec/limits';
import { parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';
import { targetKey } from '../../src/spec/target-url';
import { parseSpecText } from '../../src/spec/yaml-text';

/**
 * Issue 9, section 5: a generator-based test with a fixed seed. Every case starts from a valid spec
 * and breaks it one way. The hostile classes break it in a way that must always be refused; the
 * `random` class puts arbitrary values anywhere, and whatever it gets accepted must still be valid.
 * Each case must finish in under a second, and never throw anything but a SpecError naming a path.
 */

const SEED = 20_261_201;
const CASES = 3000;
const TIME_LIMIT_MS = 1000;

type Strategy = 'canary' | 'blue-green';
type Doc = Record<string, unknown>;

const shared = () => ({
  monitoring: {
    window: '2m',
    interval: '10s',
    maxWindow: '6m',
    minCanaryRequests: 100,
    onInconclusive: 'pause',
  },
  healthCheck: { path: '/healthz', expectedStatus: 200, timeout: '2s', retries: 10, interval: '1s' },
  smokeTests: [
    {
      name: 'home',
      method: 'GET',
      path: '/smoke',
      headers: { accept: 'application/json' },
      expectedStatus: 200,
      bodyContains: 'ok',
      timeout: '5s',
    },
  ],
  analysis: {
    mode: 'sequential',
    alpha: 0.01,
    latencyBaselineWindow: '10m',
    latencyToleranceRatio: 1.05,
    latencyToleranceMs: 1,
    maxCpuPercent: 90,
    minErrorRateDelta: 0.01,
  },
  traffic: { provider: 'embedded', adminUrl: 'http://127.0.0.1:9901' },
  metrics: { provider: 'embedded' },
  deploy: {
    provider: 'process',
    command: '/usr/bin/node',
    args: ['server.js'],
    env: { PORT: '8002' },
    readyTimeout: '20s',
  },
  notify: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' },
});

function baseDoc(strategy: Strategy): Doc {
  if (strategy === 'canary') {
    return {
      service: 'checkout',
      stable: { version: 'v1', targets: ['http://127.0.0.1:8001'] },
      canary: { version: 'v2', targets: ['http://127.0.0.1:8002'] },
      stages: [10, { weight: 50, window: '1m' }, 100],
      ...shared(),
      promotion: { stabilizationDelay: '30s' },
    };
  }
  return {
    strategy: 'blue-green',
    service: 'checkout',
    version: 'v2',
    environments: {
      blue: { targets: ['http://127.0.0.1:8001'] },
      green: { targets: ['http://127.0.0.1:8002'] },
    },
    validation: { weight: 1, window: '2m' },
    postSwitch: { window: '5m', baselineWindow: '5m', maxErrorRate: 0.05 },
    ...shared(),
    promotion: { mode: 'auto', delay: '0s', stabilizationDelay: '30s' },
  };
}

type Kind = 'name' | 'target' | 'url' | 'path' | 'duration' | 'command' | 'envName' | 'headerValue';
type Path = (string | number)[];

/** Fields by kind, per strategy; paths shared by both are listed once. */
const SHARED_FIELDS: [Path, Kind][] = [
  [['service'], 'name'],
  [['traffic', 'adminUrl'], 'url'],
  [['healthCheck', 'path'], 'path'],
  [['smokeTests', 0, 'path'], 'path'],
  [['smokeTests', 0, 'headers', 'accept'], 'headerValue'],
  [['deploy', 'command'], 'command'],
  [['notify', 'webhookUrlEnv'], 'envName'],
  [['monitoring', 'window'], 'duration'],
  [['monitoring', 'interval'], 'duration'],
  [['monitoring', 'maxWindow'], 'duration'],
  [['healthCheck', 'timeout'], 'duration'],
  [['healthCheck', 'interval'], 'duration'],
  [['smokeTests', 0, 'timeout'], 'duration'],
  [['analysis', 'latencyBaselineWindow'], 'duration'],
  [['promotion', 'stabilizationDelay'], 'duration'],
  [['deploy', 'readyTimeout'], 'duration'],
];
const FIELDS: Record<Strategy, [Path, Kind][]> = {
  canary: [
    ...SHARED_FIELDS,
    [['stable', 'version'], 'name'],
    [['canary', 'version'], 'name'],
    [['stable', 'targets', 0], 'target'],
    [['canary', 'targets', 0], 'target'],
    [['stages', 1, 'window'], 'duration'],
  ],
  'blue-green': [
    ...SHARED_FIELDS,
    [['version'], 'name'],
    [['environments', 'blue', 'targets', 0], 'target'],
    [['environments', 'green', 'targets', 0], 'target'],
    [['validation', 'window'], 'duration'],
    [['postSwitch', 'window'], 'duration'],
    [['promotion', 'delay'], 'duration'],
  ],
};

/** Numbers each field must refuse. */
const OUT_OF_RANGE: Record<Strategy, [Path, number[]][]> = {
  canary: [
    [
      ['stages', 0],
      [0, -1, 101, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e308],
    ],
    [
      ['stages', 1, 'weight'],
      [0, 10, 101, 50.5, -50],
    ],
    [
      ['monitoring', 'window'],
      [0, 50, 99, -1, 1.5, 1e308, MAX_DURATION_MS + 1],
    ],
    [
      ['monitoring', 'interval'],
      [0, 99, -1, 0.5, 1e308, 200_000],
    ],
    [
      ['monitoring', 'minCanaryRequests'],
      [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e10],
    ],
    [
      ['healthCheck', 'retries'],
      [-1, 101, 2.5, Number.NaN],
    ],
    [
      ['healthCheck', 'expectedStatus'],
      [99, 600, 200.5, -200],
    ],
    [
      ['smokeTests', 0, 'expectedStatus'],
      [0, 1000, 404.1],
    ],
    [
      ['analysis', 'alpha'],
      [0, -0.1, 0.21, Number.NaN, Number.POSITIVE_INFINITY],
    ],
    [
      ['analysis', 'latencyToleranceRatio'],
      [0.99, 10.1, Number.NaN],
    ],
    [
      ['analysis', 'latencyToleranceMs'],
      [-1, 60_001, Number.POSITIVE_INFINITY],
    ],
    [
      ['analysis', 'maxCpuPercent'],
      [0, 101],
    ],
    [
      ['analysis', 'minErrorRateDelta'],
      [-0.1, 1.1],
    ],
    [
      ['promotion', 'stabilizationDelay'],
      [-5, 1e20, 0.5],
    ],
  ],
  'blue-green': [
    [
      ['validation', 'weight'],
      [-1, 51, 0.5, 1e9],
    ],
    [
      ['validation', 'window'],
      [-1, 5, 1e308],
    ],
    [
      ['postSwitch', 'maxErrorRate'],
      [-0.1, 1.5, Number.NaN],
    ],
    [
      ['postSwitch', 'window'],
      [-1, 1e308, 1.5],
    ],
    [
      ['monitoring', 'window'],
      [0, 50, 99],
    ],
    [
      ['healthCheck', 'retries'],
      [-1, 101],
    ],
  ],
};

const BAD_DURATIONS = [
  '5 m',
  '-1s',
  '1e3ms',
  '',
  'soon',
  '5min',
  '1.5',
  '.5s',
  '5S',
  `1${'0'.repeat(400)}ms`,
  '99999999999d',
  '31d',
  ' ',
  '5s5',
  'Infinitys',
  'NaNms',
];
/** Durations that are well-formed but make a hot loop: refused where they would be the poll interval. */
const HOT_LOOP: [Path, string[]][] = [
  [
    ['monitoring', 'window'],
    ['0s', '0ms', '50ms', '99ms'],
  ],
  [
    ['monitoring', 'interval'],
    ['0s', '1ms', '99ms'],
  ],
];

const CONTROL = [
  '\n',
  '\t',
  '\r',
  '\u0000',
  '\u001b[31m',
  '\u001b]0;x\u0007',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u202e',
];
const ALWAYS_BAD_FRAGMENTS: Record<Kind, string[]> = {
  name: [...CONTROL, ' ', '\u00a0', '#', '?', '@', '\\', '/..', '$(id)', ';', '`'],
  target: [...CONTROL, ' ', '\u00a0', '#x', '?q=1', 'user:pw@'],
  url: [...CONTROL, ' ', '\u00a0'],
  path: [...CONTROL, ' ', '\\', '#frag'],
  command: [...CONTROL, ' ', ';', '|', '$', '`', '&', '\\', '>'],
  envName: [...CONTROL, ' ', '-', 'lower', '='],
  headerValue: CONTROL,
  duration: BAD_DURATIONS,
};
const REPLACEMENTS: Partial<Record<Kind, string[]>> = {
  path: ['//169.254.169.254/latest/meta-data', '\\\\evil', 'relative', '', '/\\evil'],
  target: [
    'http://127.0.0.1:80\n82',
    'ftp://127.0.0.1:1',
    'file:///etc/passwd',
    'http://',
    'javascript:alert(1)',
  ],
  url: ['http://127.0.0.1:80\n82', 'gopher://x', 'not a url', '//host'],
};

const WRONG_TYPES: unknown[] = [true, false, null, [], {}, ['x'], 42, '42', { a: 1 }];
const OBJECT_PATHS: Record<Strategy, Path[]> = {
  canary: [
    [],
    ['stable'],
    ['canary'],
    ['stages', 1],
    ['monitoring'],
    ['healthCheck'],
    ['smokeTests', 0],
    ['analysis'],
    ['traffic'],
    ['metrics'],
    ['deploy'],
    ['promotion'],
    ['notify'],
  ],
  'blue-green': [
    [],
    ['environments'],
    ['environments', 'blue'],
    ['validation'],
    ['postSwitch'],
    ['monitoring'],
    ['analysis'],
    ['deploy'],
    ['promotion'],
  ],
};
const UNKNOWN_KEYS = [
  'windw',
  'constructor',
  'toString',
  'hasOwnProperty',
  '__proto__',
  'prototype',
  '',
  ' ',
  '\u001b[2J',
  'a'.repeat(10_000),
  'Service',
  'stages ',
];

const YAML_TRICKS: ((base: string) => string)[] = [
  (b) => b.replace('service: checkout', 'service: !foo checkout'),
  (b) => `${b}extra: !!binary aGk=\n`,
  (b) => `${b}extra: !!js/function "function () {}"\n`,
  (b) => `${b}extra: !!python/object:os.system [ls]\n`,
  (b) => b.replace('service: checkout', 'service: !<tag:example.com,2000:x> checkout'),
  (b) => `${b}extra: !!set {a, b}\n`,
  (b) => `${b}extra: !!omap [a: 1]\n`,
  (b) => b.replace('service: checkout', 'service: !!timestamp 2001-12-14'),
  (b) => `${b}service: other\n`,
  (b) => b.replace('  window: 2m', '  window: 2m\n  window: 3m'),
  (b) => `${b}---\nservice: other\n`,
  (b) => `? [a, b]\n: 1\n${b}`,
  (b) => `${b}<<: {x: 1}\n`,
  (b) => `${b}__proto__: {polluted: true}\n`,
  (b) =>
    `${b}x: &a [a,a,a,a,a,a,a,a,a]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`,
  (b) => `${b}deep: ${'['.repeat(100_000)}\n`,
  (b) => `${b}deep: ${'{a: '.repeat(40)}1${'}'.repeat(40)}\n`,
  (b) => `${b}deep:\n${Array.from({ length: 200 }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')} 1\n`,
  (b) => `${b}deep: ${'- '.repeat(5000)}x\n`,
  (b) => `${b}${Array.from({ length: 60_000 }, (_, i) => `k${i}: ${i}`).join('\n')}\n`,
  (b) => `${b}# ${'x'.repeat(1_100_000)}\n`,
  (b) => b.replace(/^/gm, '\t'),
  (b) => `${b}broken: {[\n`,
  (b) => `${b}broken: "unterminated\n`,
  () => '',
  () => '~',
  () => '[]',
  () => 'just a string',
  () => '\u0000\u0001\u0002',
];

/** The whole tree is built here from a small recipe, so huge cases exist only while they run. */
type Recipe =
  | { cls: 'wrongType'; pick: number; value: number }
  | { cls: 'outOfRange'; pick: number; value: number }
  | { cls: 'badDuration'; pick: number; value: number; hot: boolean }
  | { cls: 'unknownKey'; pick: number; value: number; random: string; useRandom: boolean }
  | { cls: 'hostileString'; pick: number; value: number; at: number; replace: boolean }
  | { cls: 'hugeSize'; pick: number; size: number }
  | { cls: 'yamlTrick'; pick: number }
  | { cls: 'random'; pick: number; anything: unknown };

const HOSTILE_CLASSES = [
  'wrongType',
  'outOfRange',
  'badDuration',
  'unknownKey',
  'hostileString',
  'hugeSize',
  'yamlTrick',
] as const;

const recipeArb: fc.Arbitrary<{ strategy: Strategy; via: 'object' | 'text'; recipe: Recipe }> = fc.record({
  strategy: fc.constantFrom<Strategy>('canary', 'blue-green'),
  via: fc.constantFrom<'object' | 'text'>('object', 'text'),
  recipe: fc.oneof(
    fc.record({ cls: fc.constant('wrongType' as const), pick: fc.nat(), value: fc.nat() }),
    fc.record({ cls: fc.constant('outOfRange' as const), pick: fc.nat(), value: fc.nat() }),
    fc.record({
      cls: fc.constant('badDuration' as const),
      pick: fc.nat(),
      value: fc.nat(),
      hot: fc.boolean(),
    }),
    fc.record({
      cls: fc.constant('unknownKey' as const),
      pick: fc.nat(),
      value: fc.nat(),
      random: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
      useRandom: fc.boolean(),
    }),
    fc.record({
      cls: fc.constant('hostileString' as const),
      pick: fc.nat(),
      value: fc.nat(),
      at: fc.nat(),
      replace: fc.boolean(),
    }),
    fc.record({
      cls: fc.constant('hugeSize' as const),
      pick: fc.nat(),
      size: fc.integer({ min: 0, max: 1_000_000 }),
    }),
    fc.record({ cls: fc.constant('yamlTrick' as const), pick: fc.nat() }),
    fc.record({
      cls: fc.constant('random' as const),
      pick: fc.nat(),
      anything: fc.anything({ maxDepth: 3 }),
    }),
  ),
});

const at = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

function getAt(doc: Doc, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], doc);
}

function setAt(doc: Doc, path: Path, value: unknown): void {
  const parent = getAt(doc, path.slice(0, -1)) as Record<string | number, unknown>;
  // defineProperty: "__proto__" must become an own key, as a JSON or YAML parser makes it.
  Object.defineProperty(parent, path[path.length - 1] as string | number, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const targets = (n: number) =>
  Array.from({ length: n }, (_, i) => `http://10.${(i >> 8) & 255}.${i & 255}.1:${1000 + (i % 60000)}`);

/** Builds the case: a document (object cases) or a text (YAML tricks), and the path it breaks. */
function build(strategy: Strategy, recipe: Recipe): { doc?: unknown; text?: string; path: Path } {
  const doc = baseDoc(strategy);
  switch (recipe.cls) {
    case 'wrongType': {
      const [path, kind] = at(FIELDS[strategy], recipe.pick);
      // A duration may be a number of ms; '42' is a duration-less number string, wrong for every kind.
      // '42' is a fine name, command or header value, so it is no wrong type there.
      const options = WRONG_TYPES.filter(
        (v) =>
          !(kind === 'duration' && typeof v === 'number') &&
          !(['name', 'command', 'headerValue'].includes(kind) && v === '42'),
      );
      setAt(doc, path, at(options, recipe.value));
      return { doc, path };
    }
    case 'outOfRange': {
      const [path, values] = at(OUT_OF_RANGE[strategy], recipe.pick);
      setAt(doc, path, at(values, recipe.value));
      return { doc, path };
    }
    case 'badDuration': {
      if (recipe.hot) {
        const [path, values] = at(HOT_LOOP, recipe.pick);
        setAt(doc, path, at(values, recipe.value));
        return { doc, path };
      }
      const durations = FIELDS[strategy].filter(([, kind]) => kind === 'duration');
      const [path] = at(durations, recipe.pick);
      setAt(doc, path, at(BAD_DURATIONS, recipe.value));
      return { doc, path };
    }
    case 'unknownKey': {
      const parent = at(OBJECT_PATHS[strategy], recipe.pick);
      const existing = getAt(doc, parent) as Doc;
      let key = recipe.useRandom ? recipe.random : at(UNKNOWN_KEYS, recipe.value);
      if (Object.hasOwn(existing, key)) key = `${key}-x`;
      setAt(doc, [...parent, key], 1);
      return { doc, path: parent };
    }
    case 'hostileString': {
      const [path, kind] = at(
        FIELDS[strategy].filter(([, k]) => k !== 'duration'),
        recipe.pick,
      );
      const replacements = REPLACEMENTS[kind];
      if (recipe.replace && replacements) {
        setAt(doc, path, at(replacements, recipe.value));
      } else {
        const original = String(getAt(doc, path));
        const fragment = at(ALWAYS_BAD_FRAGMENTS[kind], recipe.value);
        const i = recipe.at % (original.length + 1);
        setAt(doc, path, original.slice(0, i) + fragment + original.slice(i));
      }
      return { doc, path };
    }
    case 'hugeSize': {
      const n = recipe.size;
      const cases: (() => Path)[] = [
        () => {
          const path = strategy === 'canary' ? ['canary', 'targets'] : ['environments', 'green', 'targets'];
          setAt(doc, path, targets(65 + (n % 5000)));
          return path;
        },
        () => {
          setAt(
            doc,
            ['smokeTests'],
            Array.from({ length: 33 + (n % 500) }, (_, i) => ({ name: `t${i}`, path: '/' })),
          );
          return ['smokeTests'];
        },
        () => {
          const headers = Object.fromEntries(
            Array.from({ length: 33 + (n % 2000) }, (_, i) => [`x-h${i}`, 'v']),
          );
          setAt(doc, ['smokeTests', 0, 'headers'], headers);
          return ['smokeTests', 0, 'headers'];
        },
        () => {
          setAt(
            doc,
            ['deploy', 'args'],
            Array.from({ length: 65 + (n % 2000) }, (_, i) => `a${i}`),
          );
          return ['deploy', 'args'];
        },
        () => {
          const env = Object.fromEntries(Array.from({ length: 65 + (n % 2000) }, (_, i) => [`V${i}`, 'x']));
          setAt(doc, ['deploy', 'env'], env);
          return ['deploy', 'env'];
        },
        () => {
          if (strategy !== 'canary') {
            setAt(doc, ['healthCheck', 'path'], `/${'a'.repeat(MAX_URL_LENGTH + n)}`);
            return ['healthCheck', 'path'];
          }
          setAt(
            doc,
            ['stages'],
            Array.from({ length: 101 + (n % 2000) }, (_, i) => i + 1),
          );
          return ['stages'];
        },
        () => {
          const [path] = at(
            FIELDS[strategy].filter(([, k]) => k !== 'duration'),
            n,
          );
          // Longer than every kind's limit (8192 for header values and URLs), up to 1 MB.
          const long = 'a'.repeat(Math.max(8192, MAX_URL_LENGTH) + 1 + n);
          setAt(doc, path, long);
          return path;
        },
        () => {
          setAt(doc, ['smokeTests', 0, 'bodyContains'], 'x'.repeat(100_001 + n));
          return ['smokeTests', 0, 'bodyContains'];
        },
      ];
      return { doc, path: at(cases, recipe.pick)() };
    }
    case 'yamlTrick':
      return { text: at(YAML_TRICKS, recipe.pick)(stringify(doc)), path: [] };
    case 'random': {
      const all = [
        ...FIELDS[strategy].map(([p]) => p),
        ...OUT_OF_RANGE[strategy].map(([p]) => p),
        ...OBJECT_PATHS[strategy].filter((p) => p.length > 0),
      ];
      const path = at(all, recipe.pick);
      setAt(doc, path, recipe.anything);
      return { doc, path };
    }
  }
}

const formatKey = (path: Path) =>
  path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${key}` : key),
    '',
  );

/** An accepted spec must hold every invariant the validation promises. */
function assertValid(spec: ReturnType<typeof parseCanarySpec> | ReturnType<typeof parseBlueGreenSpec>): void {
  const { interval, window, maxWindow } = spec.monitoring;
  assert.ok(
    interval >= MIN_INTERVAL_MS && interval <= window && maxWindow >= window && maxWindow <= MAX_DURATION_MS,
  );
  const groups =
    spec.strategy === 'canary'
      ? [spec.stable.targets, spec.canary.targets]
      : [spec.environments.blue.targets, spec.environments.green.targets];
  for (const list of groups) {
    assert.ok(
      splitUpdateSchema.safeParse({ stable: { version: 'v1', targets: list }, canaryWeight: 0 }).success,
    );
  }
  const [first, second] = groups.map((list) => new Set(list.map(targetKey)));
  for (const key of second!) assert.ok(!first!.has(key), 'overlapping targets');
  if (spec.strategy === 'canary') for (const stage of spec.stages) assert.ok(stage.windowMs >= interval);
  for (const p of [spec.healthCheck.path, ...spec.smokeTests.map((s) => s.path)]) {
    assert.ok(p.startsWith('/') && !p.startsWith('//') && !p.includes('\\'));
  }
}

describe('spec fuzz: hostile specs are refused cleanly and fast', () => {
  test(`${CASES} generated specs (seed ${SEED}): refused with a path-named SpecError, or accepted and valid`, () => {
    const recipes = fc.sample(recipeArb, { seed: SEED, numRuns: CASES });
    const stats = { cases: 0, crashes: 0, overLimit: 0, slowestMs: 0, acceptedRandom: 0, acceptedHostile: 0 };
    const acceptedHostile: string[] = [];
    const problems: string[] = [];
    for (const { strategy, via, recipe } of recipes) {
      stats.cases++;
      const { doc, text, path } = build(strategy, recipe);
      const parse = strategy === 'canary' ? parseCanarySpec : parseBlueGreenSpec;
      const started = performance.now();
      let outcome: 'accepted' | SpecError | unknown;
      try {
        const document =
          text !== undefined
            ? parseSpecText(text, 'fuzz')
            : via === 'text'
              ? parseSpecText(JSON.stringify(doc), 'fuzz')
              : doc;
        const spec = parse(document, 'fuzz');
        assertValid(spec);
        outcome = 'accepted';
      } catch (err) {
        outcome = err;
      }
      const ms = performance.now() - started;
      stats.slowestMs = Math.max(stats.slowestMs, ms);
      const trick = recipe.cls === 'yamlTrick' ? `#${recipe.pick % YAML_TRICKS.length}` : '';
      const label = `${recipe.cls}${trick}/${strategy}/${via} at ${formatKey(path) || '(root)'}`;
      if (ms >= TIME_LIMIT_MS) {
        stats.overLimit++;
        problems.push(`${label}: ${ms.toFixed(0)}ms`);
      }
      if (outcome === 'accepted') {
        if (recipe.cls === 'random') stats.acceptedRandom++;
        else {
          stats.acceptedHostile++;
          acceptedHostile.push(label);
        }
        continue;
      }
      if (!(outcome instanceof SpecError)) {
        stats.crashes++;
        problems.push(`${label}: crashed with ${String(outcome).slice(0, 300)}`);
        continue;
      }
      if (
        outcome.issues.length === 0 ||
        outcome.issues.some((i) => i.path.length === 0 || i.message.length === 0)
      ) {
        problems.push(`${label}: an issue without a path or message`);
      }
      // The error names the broken field, a parent of it (an unknown key, a count) or the document,
      // or a sibling it conflicts with (window: 0s beside interval: 10s is reported at interval).
      const key = formatKey(path);
      const parentKey = formatKey(path.slice(0, -1));
      const named = outcome.issues.some(
        (i) =>
          ['(root)', '(syntax)', '(file)'].includes(i.path) ||
          i.path.startsWith(parentKey) ||
          key.startsWith(i.path),
      );
      if (!named && recipe.cls !== 'random')
        problems.push(`${label}: reported at ${outcome.issues.map((i) => i.path).join(', ')}`);
      if (outcome.message.length > 50 * 800)
        problems.push(`${label}: a ${outcome.message.length}-character message`);
    }
    const perClass = Object.fromEntries(
      HOSTILE_CLASSES.map((c) => [c, recipes.filter((r) => r.recipe.cls === c).length]),
    );
    console.log(
      `spec fuzz: ${stats.cases} cases (${JSON.stringify(perClass)}, random ${recipes.filter((r) => r.recipe.cls === 'random').length}), ` +
        `${stats.crashes} crashes, ${stats.overLimit} over ${TIME_LIMIT_MS}ms, slowest ${stats.slowestMs.toFixed(1)}ms, ` +
        `${stats.acceptedHostile} hostile accepted, ${stats.acceptedRandom} random accepted (all valid)`,
    );
    assert.deepEqual(acceptedHostile, [], 'hostile specs accepted');
    assert.deepEqual(problems, []);
    assert.equal(stats.crashes, 0);
    assert.equal(stats.overLimit, 0);
  });
});
