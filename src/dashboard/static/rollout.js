/** One rollout: its state, charts and decisions, refreshed every 2 s until it ends. */
/* global document, setTimeout, clearTimeout */
import { createCharts } from './charts.js';
import { createControls } from './controls.js';
import { el, replace } from './dom.js';
import { duration, timeOfDay } from './format.js';
import { getJson, problemText } from './http.js';
import { createTimeline } from './timeline.js';
import { verdictView } from './evidence.js';

const POLL_MS = 2000;

/** One version's share; a blue-green rollout names the environment (blue/green) it runs in. */
function weightMeter(label, version, value, environment) {
  return el(
    'div',
    { class: 'weight' },
    el(
      'span',
      { class: 'weight-label' },
      `${environment ? `${label} (${environment})` : label} ${version ?? '(asking the router)'}`,
    ),
    el('meter', { min: 0, max: 100, value, 'aria-label': `${label} weight` }),
    el('span', { class: 'weight-value', 'data-role': label }, `${value}%`),
  );
}

function summary(view) {
  const s = view.state;
  const stage =
    s.stageIndex >= 0
      ? `stage ${s.stageIndex + 1} of ${s.stageWeights.length} (${s.stageWeights.join(' → ')}%)`
      : null;
  const window = s.window
    ? `window ${duration(s.window.elapsedMs)} of ${duration(s.window.requiredMs)} (max ${duration(s.window.maxMs)}), ${s.window.polls} polls`
    : null;
  return el(
    'section',
    { class: 'summary', 'aria-label': 'summary' },
    el(
      'p',
      { class: 'headline' },
      el('span', { class: `phase phase-${s.phase}`, id: 'phase' }, s.phase),
      s.paused
        ? el(
            'span',
            { class: 'badge paused', title: s.pauseReason || '' },
            `paused: ${s.pauseReason || 'by operator'}`,
          )
        : null,
      s.outcome
        ? el(
            'span',
            { class: `badge outcome outcome-${s.outcome}`, id: 'outcome' },
            s.outcome.replace('_', ' '),
          )
        : null,
      s.abortReason ? el('span', { class: 'muted' }, `(${s.abortReason})`) : null,
      el('span', { class: 'muted' }, view.status.toLowerCase()),
    ),
    weightMeter('stable', s.stableVersion, s.weights.stable, s.environments?.live),
    weightMeter('canary', s.canaryVersion, s.weights.canary, s.environments?.idle),
    stage ? el('p', {}, stage) : null,
    window ? el('p', {}, window) : null,
    el(
      'p',
      { class: 'muted' },
      `started ${timeOfDay(s.startedAt)}`,
      s.finishedAt ? `, finished ${timeOfDay(s.finishedAt)}` : '',
    ),
    s.lastVerdict
      ? el(
          'details',
          { class: 'last-verdict' },
          el('summary', {}, `last verdict: ${s.lastVerdict.result}: ${s.lastVerdict.summary}`),
          verdictView(s.lastVerdict),
        )
      : null,
  );
}

export function showRollout(main, status, workflowId) {
  document.title = `${workflowId} · durable-rollouts`;
  const title = el('h1', {}, workflowId);
  const links = el('p', { class: 'links' }, el('a', { href: '/' }, '← all rollouts'));
  const problem = el('p', { class: 'problem', role: 'alert', hidden: true });
  const summaryHolder = el('div', {}, 'loading…');
  replace(main, title, links, problem, summaryHolder);

  let parts = null;

  /** Fetches and shows the rollout once; true while it runs (keep polling), and on a failure (retry). */
  const load = async () => {
    let view;
    try {
      view = await getJson(`/api/rollouts/${encodeURIComponent(workflowId)}`);
      problem.hidden = true;
    } catch (err) {
      replace(problem, problemText(err));
      problem.hidden = false;
      replace(status, 'not updated');
      status.className = 'connection problem';
      return true;
    }
    const s = view.state;
    if (!parts) {
      replace(
        title,
        `${s.service} `,
        el('span', { class: 'muted' }, `${s.strategy} · ${s.stableVersion ?? '?'} → ${s.canaryVersion}`),
      );
      links.append(
        ' · ',
        el(
          'a',
          { href: view.webUiLink, target: '_blank', rel: 'noopener noreferrer', id: 'web-ui-link' },
          'open in the Temporal Web UI',
        ),
      );
      parts = {
        controls: createControls(view.workflowId, s.strategy, () => void refresh()),
        charts: createCharts({ stable: s.stableVersion ?? 'old', canary: s.canaryVersion }),
        timeline: createTimeline(),
      };
      main.append(parts.controls.element, parts.charts.element, parts.timeline.element);
    }
    document.title = `${s.service} · ${s.phase} · durable-rollouts`;
    replace(summaryHolder, summary(view));
    parts.controls.update(view);
    parts.charts.update(view.plots);
    parts.timeline.update(s.decisions, s.startedAt);
    main.dataset.running = String(view.running);
    if (view.running) {
      replace(status, `live · updated ${timeOfDay(new Date().toISOString())}`);
      status.className = 'connection live';
    } else {
      replace(status, `ended (${view.status.toLowerCase()}) · no more updates`);
      status.className = 'connection';
    }
    return view.running;
  };

  // One load at a time: a signal sent asks for a refresh at once, and a poll may be under way.
  let timer;
  let loading = false;
  let again = false;
  const refresh = async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    clearTimeout(timer);
    let keepPolling;
    try {
      keepPolling = await load();
    } finally {
      loading = false;
    }
    if (again) {
      again = false;
      return refresh();
    }
    if (keepPolling) timer = setTimeout(refresh, POLL_MS);
  };
  void refresh();
}
