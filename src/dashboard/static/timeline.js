/** The decision log, newest first, each with the evidence behind it. */
import { el, replace } from './dom.js';
import { clock, timeOfDay } from './format.js';
import { evidenceView } from './evidence.js';

function decisionItem(decision, index, startedAt, open) {
  const seconds = (Date.parse(decision.at) - Date.parse(startedAt)) / 1000;
  const where = decision.stage === null ? '' : `stage ${decision.stage + 1} · `;
  return el(
    'li',
    { class: `decision kind-${decision.kind}`, 'data-index': index },
    el(
      'div',
      { class: 'decision-head' },
      el(
        'time',
        { datetime: decision.at, title: decision.at },
        `+${clock(seconds)}`,
        ' ',
        el('span', { class: 'muted' }, timeOfDay(decision.at)),
      ),
      el('span', { class: `badge kind kind-${decision.kind}` }, decision.kind),
      el('span', { class: 'muted' }, `${where}canary ${decision.weight}%`),
    ),
    el('p', { class: 'reason' }, decision.reason),
    decision.evidence === undefined
      ? null
      : el('details', { open }, el('summary', {}, 'evidence'), evidenceView(decision.evidence)),
  );
}

/**
 * Renders only when the log has grown: a poll that brought nothing new leaves the list alone, and
 * evidence someone has opened stays open across refreshes.
 */
export function createTimeline() {
  const list = el('ol', { class: 'timeline', reversed: true });
  let shown = -1;
  return {
    element: el(
      'section',
      { class: 'timeline-section', 'aria-label': 'decisions' },
      el('h2', {}, 'Decisions'),
      list,
    ),
    update(decisions, startedAt) {
      if (decisions.length === shown) return;
      const open = new Set(
        [...list.querySelectorAll('li')]
          .filter((li) => li.querySelector('details[open]'))
          .map((li) => li.dataset.index),
      );
      const items = decisions.map((d, i) => decisionItem(d, i, startedAt, open.has(String(i)))).reverse();
      replace(list, items);
      shown = decisions.length;
    },
  };
}
