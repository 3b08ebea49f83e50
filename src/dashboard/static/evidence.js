/**
 * The evidence behind a decision. A verdict (recognised by its fields: result, checks, canary,
 * baseline) gets its counts and its checks as tables; anything else (a health or smoke report, a
 * deploy result) is shown as nested fields.
 */
import { el, table } from './dom.js';
import { ms, num, percent } from './format.js';

export function isVerdict(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.result === 'string' &&
    Array.isArray(value.checks) &&
    typeof value.canary === 'object' &&
    typeof value.baseline === 'object'
  );
}

const resultBadge = (result) => el('span', { class: `badge result-${result}` }, result);

function countsTable(verdict) {
  const row = (role, m) => [
    `${role} ${m.version ?? ''}`,
    num(m.requests),
    num(m.errors),
    percent(m.errors, m.requests),
    ms(m.p50Ms),
    ms(m.p99Ms),
  ];
  return table(
    ['version', 'requests', 'errors', 'error rate', 'p50', 'p99'],
    [row('stable', verdict.baseline), row('canary', verdict.canary)],
    { class: 'evidence counts' },
  );
}

function passedCell(check) {
  if (check.unarmed !== undefined)
    return el('span', { class: 'badge result-inconclusive', title: check.unarmed }, 'unarmed');
  if (check.passed === null || check.passed === undefined)
    return el('span', { class: 'badge result-inconclusive' }, 'n/a');
  return el(
    'span',
    { class: `badge result-${check.passed ? 'pass' : 'fail'}` },
    check.passed ? 'passed' : 'failed',
  );
}

function checksTable(verdict) {
  return table(
    ['check', 'canary', 'baseline', 'statistic', 'limit', 'result', 'note'],
    verdict.checks.map((check) => [
      check.hard ? `${check.name} (hard)` : check.name,
      num(check.canary),
      num(check.baseline),
      num(check.statistic),
      num(check.limit),
      passedCell(check),
      [check.note, check.unarmed ? ` · waits for: ${check.unarmed}` : ''].join(''),
    ]),
    { class: 'evidence checks' },
  );
}

export function verdictView(verdict) {
  return el(
    'div',
    { class: 'verdict' },
    el('p', {}, resultBadge(verdict.result), ' ', verdict.summary),
    countsTable(verdict),
    verdict.checks.length ? checksTable(verdict) : null,
  );
}

const MAX_DEPTH = 4;

/** Any JSON value as nested lists and tables, as text only. */
function fieldsView(value, depth = 0) {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'object') return typeof value === 'number' ? num(value) : String(value);
  if (depth >= MAX_DEPTH) return JSON.stringify(value);
  if (Array.isArray(value)) {
    const flatObjects =
      value.length > 0 && value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
    if (flatObjects) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
      return table(
        keys,
        value.map((v) => keys.map((k) => fieldsView(v[k], depth + 1))),
        { class: 'evidence' },
      );
    }
    return el(
      'ul',
      {},
      value.map((v) => el('li', {}, fieldsView(v, depth + 1))),
    );
  }
  return el(
    'dl',
    { class: 'fields' },
    Object.entries(value).map(([k, v]) => [el('dt', {}, k), el('dd', {}, fieldsView(v, depth + 1))]),
  );
}

export function evidenceView(evidence) {
  return isVerdict(evidence) ? verdictView(evidence) : fieldsView(evidence);
}
