/**
 * Pause, resume, promote and abort: each posts to the dashboard's API, which sends the rollout's
 * real signal. Abort and promote ask for confirmation; abort needs a reason, kept in the state.
 */
/* global window */
import { el, replace } from './dom.js';
import { postJson, problemText } from './http.js';

const PROMOTE_HELP = {
  canary: 'end the current stage now',
  'blue-green': 'pass the manual gate and switch',
};

export function createControls(workflowId, strategy, onSent) {
  const path = (action) => `/api/rollouts/${encodeURIComponent(workflowId)}/${action}`;
  const feedback = el('p', { class: 'feedback', role: 'status', 'aria-live': 'polite' });
  const pauseReason = el('input', {
    id: 'pause-reason',
    type: 'text',
    maxlength: 500,
    placeholder: 'why (optional)',
    'aria-label': 'pause reason',
  });
  const abortReason = el('input', {
    id: 'abort-reason',
    type: 'text',
    maxlength: 500,
    placeholder: 'why (required)',
    'aria-label': 'abort reason',
  });

  const send = async (action, body, button) => {
    button.disabled = true;
    replace(feedback, `sending ${action}…`);
    feedback.className = 'feedback';
    try {
      await postJson(path(action), body);
      replace(feedback, `${action} sent to ${workflowId}`);
      feedback.className = 'feedback ok';
      onSent();
    } catch (err) {
      replace(feedback, `${action} failed: ${problemText(err)}`);
      feedback.className = 'feedback problem';
    } finally {
      // The rollout may have ended while the post was in flight (an abort often has): the last
      // view decides, never a blanket re-enable.
      if (lastView) apply(lastView);
      else button.disabled = false;
    }
  };

  const pause = el('button', { type: 'button', id: 'pause' }, 'Pause');
  const resume = el('button', { type: 'button', id: 'resume' }, 'Resume');
  const promote = el(
    'button',
    { type: 'button', id: 'promote', title: PROMOTE_HELP[strategy] || '' },
    'Promote',
  );
  const abort = el('button', { type: 'button', id: 'abort', class: 'danger' }, 'Abort');

  pause.addEventListener('click', () => {
    const reason = pauseReason.value.trim();
    void send('pause', reason ? { reason } : {}, pause);
  });
  resume.addEventListener('click', () => void send('resume', {}, resume));
  promote.addEventListener('click', () => {
    if (!window.confirm(`Promote ${workflowId}: ${PROMOTE_HELP[strategy] || 'promote'}?`)) return;
    void send('promote', {}, promote);
  });
  abort.addEventListener('click', () => {
    const reason = abortReason.value.trim();
    if (!reason) {
      replace(feedback, 'An abort needs a reason: type it first.');
      feedback.className = 'feedback problem';
      abortReason.focus();
      return;
    }
    if (
      !window.confirm(
        `Abort ${workflowId}? The stable version gets 100% of traffic now.\n\nReason: ${reason}`,
      )
    ) {
      replace(feedback, 'abort cancelled');
      feedback.className = 'feedback';
      return;
    }
    void send('abort', { reason }, abort);
  });

  const buttons = [pause, resume, promote, abort];
  let lastView = null;
  /** Only a running rollout takes signals; pause and resume follow its paused flag. */
  const apply = (view) => {
    const running = view.running;
    for (const b of buttons) b.disabled = !running;
    pause.disabled = !running || view.state.paused;
    resume.disabled = !running || !view.state.paused;
    pauseReason.disabled = abortReason.disabled = !running;
  };
  return {
    element: el(
      'section',
      { class: 'controls', 'aria-label': 'controls' },
      el('div', { class: 'control' }, pauseReason, pause, resume),
      el('div', { class: 'control' }, promote),
      el('div', { class: 'control' }, abortReason, abort),
      feedback,
    ),
    update(view) {
      lastView = view;
      apply(view);
    },
  };
}
