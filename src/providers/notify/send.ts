import type { NotifySink } from '../../spec/notify-sinks';
import type { RolloutAlert } from './alert';
import { jsonEventBody } from './json-body';
import { postToUrlFromEnv } from './post';
import { slackBody } from './slack-body';

/** Each sink's body and how messages name its endpoint. */
const SINKS: Record<NotifySink, { body: (alert: RolloutAlert) => unknown; what: string }> = {
  json: { body: jsonEventBody, what: 'notify webhook' },
  slack: { body: slackBody, what: 'notify Slack webhook' },
};

/** Posts one alert to one sink; false when the worker does not hold that sink's URL variable. */
export function sendAlert(sink: NotifySink, urlEnv: string, alert: RolloutAlert): Promise<boolean> {
  const { body, what } = SINKS[sink];
  return postToUrlFromEnv(urlEnv, body(alert), what);
}
