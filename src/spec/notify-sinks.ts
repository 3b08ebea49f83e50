import type { NotifyConfig } from './providers';

/** Where one notify activity posts. Each sink is its own call, so a retry never re-posts to another. */
export type NotifySink = 'json' | 'slack';

/**
 * The spec field that names each sink's URL variable. A new sink is a row here, a body builder
 * and a schema field; the workflow, the activity and the secret list all read this table.
 */
export const NOTIFY_SINK_URL_ENV = {
  json: 'webhookUrlEnv',
  slack: 'slackWebhookUrlEnv',
} as const satisfies Record<NotifySink, keyof NotifyConfig>;

const SINKS = Object.keys(NOTIFY_SINK_URL_ENV) as NotifySink[];

/**
 * The sinks the spec configures, in a fixed order. Pure and free of zod, so workflow code may call
 * it: the workflow makes one notify call per sink.
 */
export function notifySinks(notify: NotifyConfig | undefined): NotifySink[] {
  // A spec started without the schema (a client script) may have no notify section at all.
  return SINKS.filter((sink) => notify?.[NOTIFY_SINK_URL_ENV[sink]] !== undefined);
}

/** The worker variable a sink's URL is read from, when the spec configures that sink. */
export function sinkUrlEnv(notify: NotifyConfig, sink: NotifySink): string | undefined {
  return notify[NOTIFY_SINK_URL_ENV[sink]];
}
