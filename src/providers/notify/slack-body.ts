import type { RolloutAlert } from './alert';
import { alertLines, alertOneLiner, stageText, versionsText } from './alert-lines';
import { heldCommands } from './commands';
import { EVENT_COPY } from './events';

/** The Block Kit pieces an incoming webhook accepts; nothing that needs a Slack app. */
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock = { type: 'section'; text: MrkdwnText } | { type: 'context'; elements: MrkdwnText[] };

export interface SlackBody {
  /** The fallback: what notifications and clients without blocks show. */
  text: string;
  blocks: SlackBlock[];
}

/** Slack refuses a section text longer than this. */
const SECTION_MAX = 3000;

/** Slack reads &, < and > as markup (links, mentions); anything we quote must not be. */
export const escapeMrkdwn = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const section = (text: string): SlackBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: text.length > SECTION_MAX ? `${text.slice(0, SECTION_MAX - 1)}…` : text },
});

const link = (url: string, label: string): string => `<${escapeMrkdwn(url)}|${label}>`;

function headline(alert: RolloutAlert): string {
  const { emoji, label } = EVENT_COPY[alert.event];
  const versions = alert.context ? ` ${escapeMrkdwn(versionsText(alert.context))}` : '';
  return `${emoji} *${escapeMrkdwn(alert.service)}* ${label}${versions}`;
}

function commandsText(alert: RolloutAlert): string {
  const commands = heldCommands(alert);
  const code = (line: string): string => `\`${escapeMrkdwn(line)}\``;
  const go =
    'promote' in commands
      ? `*To switch:* ${code(commands.promote)}`
      : `*To continue:* ${code(commands.resume)}`;
  return `${go}\n*To roll back:* ${code(commands.abort)}`;
}

function contextText(alert: RolloutAlert): string {
  const { context } = alert;
  const parts = context ? [context.strategy, stageText(context), `phase ${context.phase}`] : [];
  parts.push(`workflow \`${alert.workflowId}\` in \`${alert.namespace}\``, alert.at);
  return parts
    .filter((part): part is string => part !== null)
    .map(escapeMrkdwn)
    .join(' · ');
}

/**
 * An incoming-webhook message: a headline, the evidence and message, what to run when the rollout
 * waits for a human, the links, and a context line naming the workflow.
 */
export function slackBody(alert: RolloutAlert): SlackBody {
  const body = alertLines(alert)
    .map(({ label, text }) => `${label ? `*${label}:* ` : ''}${escapeMrkdwn(text)}`)
    .join('\n');
  const blocks: SlackBlock[] = [section(headline(alert)), section(body)];
  if (alert.event === 'held') blocks.push(section(commandsText(alert)));
  const links = [
    alert.links.webUi && link(alert.links.webUi, 'Temporal Web UI'),
    alert.links.dashboard && link(alert.links.dashboard, 'Rollout dashboard'),
  ].filter((part): part is string => !!part);
  if (links.length > 0) blocks.push(section(links.join(' · ')));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: contextText(alert) }] });
  return { text: `${EVENT_COPY[alert.event].emoji} ${escapeMrkdwn(alertOneLiner(alert))}`, blocks };
}
