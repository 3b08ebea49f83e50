import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HistoryEventLike, isMetricRead } from '../test/helpers/history-events';
import { median } from './stats';

/**
 * History events per monitoring poll, from the recorded histories in test/fixtures/histories: the
 * last recording before the one-window-loop patch (activity reads) beside the newest one (local
 * activity reads). Run `npm run fixtures:record` first to measure the code as it is now.
 *
 *   npm run bench:history [-- --before 2026-12-01] [--after 2026-12-02]
 */

const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'histories');
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
const POLL_INTERVAL_MS = 10_000;
/** The Temporal server's default for limit.historyCount.suggestContinueAsNew. */
const SUGGEST_CONTINUE_AS_NEW_AT = 4 * 1024;

/** The median gap, in events, between consecutive reads: one poll's cost in steady state. */
function eventsPerPoll(file: string): { perPoll: number; reads: number; events: number } {
  const events = (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { events: HistoryEventLike[] })
    .events;
  const at = events.flatMap((e, i) => (isMetricRead(e) ? [i] : []));
  const gaps = at.slice(1).map((i, k) => i - (at[k] as number));
  if (gaps.length === 0) throw new Error(`${file} has fewer than two metric reads`);
  return { perPoll: median(gaps), reads: at.length, events: events.length };
}

function sevenDayBake(perPoll: number) {
  const events = Math.round((SEVEN_DAYS_MS / POLL_INTERVAL_MS) * perPoll);
  return { events, runs: Math.ceil(events / SUGGEST_CONTINUE_AS_NEW_AT) };
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main(): void {
  if (process.argv.includes('--help')) {
    console.log('usage: npm run bench:history [-- --before YYYY-MM-DD] [--after YYYY-MM-DD]');
    return;
  }
  const dates = [
    ...new Set(readdirSync(FIXTURES).flatMap((f) => /\.(\d{4}-\d{2}-\d{2})\.json$/.exec(f)?.[1] ?? [])),
  ].sort();
  const after = argument('after') ?? dates.at(-1);
  const before = argument('before') ?? dates.at(-2);
  if (!before || !after) throw new Error(`need two recordings in ${FIXTURES}; found ${dates.join(', ')}`);

  const measure = (date: string) => {
    const canary = eventsPerPoll(`canary-promoted.${date}.json`);
    const blueGreen = eventsPerPoll(`blue-green-promoted.${date}.json`);
    return { date, canary, blueGreen, bake: sevenDayBake(canary.perPoll) };
  };
  const rows = [measure(before), measure(after)];
  console.log(`history events per monitoring poll, from the recorded histories (median gap between reads)`);
  console.log('recorded     canary/poll  blue-green/poll  7-day bake at 10 s polls (events, runs at 4,096)');
  for (const r of rows) {
    console.log(
      `${r.date}   ${String(r.canary.perPoll).padStart(11)}  ${String(r.blueGreen.perPoll).padStart(15)}  ${r.bake.events.toLocaleString('en').padStart(10)} events, ${r.bake.runs} runs`,
    );
  }
  const [old, now] = rows as [(typeof rows)[0], (typeof rows)[0]];
  console.log(
    `after/before: canary ${(now.canary.perPoll / old.canary.perPoll).toFixed(2)}×, blue-green ${(now.blueGreen.perPoll / old.blueGreen.perPoll).toFixed(2)}× (goal ≤ 6 events per poll)`,
  );
  console.log(
    JSON.stringify({
      recorded: now.date,
      eventsPerPollCanary: now.canary.perPoll,
      eventsPerPollBlueGreen: now.blueGreen.perPoll,
      eventsPerRunSevenDayBake: now.bake.events,
      runsSevenDayBake: now.bake.runs,
      before: {
        recorded: old.date,
        eventsPerPollCanary: old.canary.perPoll,
        eventsPerPollBlueGreen: old.blueGreen.perPoll,
        eventsPerRunSevenDayBake: old.bake.events,
        runsSevenDayBake: old.bake.runs,
      },
    }),
  );
}

main();
