/**
 * Poll lateness and missed polls from the arrival times of each rollout's metric reads.
 *
 * The workflow schedules its next poll one interval after the previous one returned, so the gap
 * between two consecutive polls of one rollout, minus the interval, is how late the second one
 * was: timer, workflow task and activity (or local activity) latency together.
 */

export interface PollWindow {
  startMs: number;
  endMs: number;
  intervalMs: number;
}

export interface PollSummary {
  /** Services measured (aborted ones are left out). */
  services: number;
  /** Polls that arrived inside the window. */
  observed: number;
  /** Polls the window should hold: floor(duration / interval) per service. */
  expected: number;
  /** Lateness of every poll inside the window, in ms (gap to the previous poll − interval). */
  latenessMs: number[];
  /**
   * Polls that never came: each interval beyond the first in a gap (so a poll more than one
   * interval late counts as missed), including the gap from the last poll to the window's end.
   */
  missed: number;
  /** Services with at least one missed poll. */
  servicesMissing: number;
}

/** `arrivals`: each service's poll times (ms, ascending), including polls before the window. */
export function summarizePolls(arrivals: readonly (readonly number[])[], window: PollWindow): PollSummary {
  const { startMs, endMs, intervalMs } = window;
  // The window is measured in floating-point ms: 89999.9999 / 10000 must still count 9 polls.
  const perService = Math.floor((endMs - startMs) / intervalMs + 1e-6);
  const summary: PollSummary = {
    services: arrivals.length,
    observed: 0,
    expected: perService * arrivals.length,
    latenessMs: [],
    missed: 0,
    servicesMissing: 0,
  };
  const missedIn = (gapMs: number) => Math.max(0, Math.floor((gapMs - intervalMs) / intervalMs));
  for (const times of arrivals) {
    let missed = 0;
    // The last poll before the window opens the first gap; a service never polled has none.
    let previous: number | undefined;
    for (const at of times) {
      if (at > endMs) break;
      if (at >= startMs) {
        summary.observed++;
        if (previous !== undefined) {
          summary.latenessMs.push(at - previous - intervalMs);
          missed += missedIn(at - previous);
        }
      }
      previous = at;
    }
    // A rollout that stopped polling misses every interval up to the window's end.
    missed += missedIn(endMs - (previous ?? startMs - intervalMs));
    summary.missed += missed;
    if (missed > 0) summary.servicesMissing++;
  }
  return summary;
}
