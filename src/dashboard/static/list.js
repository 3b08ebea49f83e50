/** The list of rollouts, newest first, refreshed every few seconds. */
/* global document, setTimeout */
import { el, replace, table } from './dom.js';
import { duration, timeOfDay } from './format.js';
import { getJson, problemText } from './http.js';

const REFRESH_MS = 5000;

function phaseCell(row) {
  if (row.phase === null)
    return el('span', { class: 'muted', title: row.stateError || '' }, 'state unavailable');
  return el(
    'span',
    { class: `phase phase-${row.phase}` },
    row.phase,
    row.paused ? el('span', { class: 'badge paused' }, 'paused') : null,
  );
}

function age(row, now) {
  const started = Date.parse(row.startTime);
  return row.closeTime ? `${duration(now - started)} (ended)` : duration(now - started);
}

function rowCells(row, now) {
  return [
    el('a', { href: `/rollouts/${encodeURIComponent(row.workflowId)}` }, row.service),
    row.strategy,
    phaseCell(row),
    row.canaryWeight === null ? '–' : `${row.canaryWeight}%`,
    el('span', { title: row.startTime }, age(row, now)),
    el('span', { class: `status status-${row.status.toLowerCase()}` }, row.status.toLowerCase()),
  ];
}

export function showList(main, status) {
  document.title = 'Rollouts · durable-rollouts';
  const body = el('div', { id: 'rollouts' }, 'loading…');
  replace(main, el('h1', {}, 'Rollouts'), body);

  const refresh = async () => {
    try {
      const { rollouts } = await getJson('/api/rollouts');
      const now = Date.now();
      replace(
        body,
        rollouts.length === 0
          ? el('p', { class: 'muted' }, 'No rollouts yet: start one with rollout start canary -f spec.yaml.')
          : table(
              ['service', 'strategy', 'phase', 'canary weight', 'age', 'status'],
              rollouts.map((row) => rowCells(row, now)),
              { class: 'list' },
            ),
      );
      replace(status, `updated ${timeOfDay(new Date().toISOString())}`);
      status.className = 'connection';
    } catch (err) {
      replace(status, problemText(err));
      status.className = 'connection problem';
    }
    setTimeout(refresh, REFRESH_MS);
  };
  void refresh();
}
