import { connect, type NetConnectOpts } from 'node:net';
import { ConfigurationError, TransientError } from '../errors';

/** One Runtime API command as words, e.g. ['set', 'weight', 'app/blue', '10']. */
export type RuntimeCommand = readonly string[];

// The CLI splits on spaces and ';' and unescapes '\': a word with any of them (or a control or
// non-ASCII character) would become a different command. The spec's patterns already exclude them.
const SAFE_WORD = /^[!-:<-[\]-~]+$/;

// HAProxy reads one line per connection; a ';'-joined line is kept well under its buffer (tune.bufsize).
const MAX_LINE_CHARS = 8000;

// Errors that describe this machine's setup rather than a passing outage: retrying cannot fix them.
const CONFIGURATION_CODES = new Set(['EACCES', 'EPERM', 'ENOTSOCK', 'EINVAL', 'ENOTFOUND']);

/**
 * HAProxy's Runtime API in non-interactive mode: one connection per line, the line's commands
 * separated by ';', each answer ended by an empty line. Connection trouble is a TransientError (an
 * activity retries while HAProxy restarts); an answer HAProxy gives to refuse a command is a
 * ConfigurationError carrying that answer.
 */
export class RuntimeApi {
  private readonly target: NetConnectOpts;

  constructor(
    readonly address: string,
    private readonly timeoutMs: number,
  ) {
    this.target = parseAddress(address);
  }

  /** Runs commands on one connection and returns each one's answer (without the ending empty line). */
  async run(commands: readonly RuntimeCommand[]): Promise<string[]> {
    if (commands.length === 0) return [];
    const line = commands.map((words) => commandText(words)).join('; ');
    const raw = await this.exchange(line);
    const answers = splitAnswers(raw);
    if (answers.length < commands.length) {
      // A complete answer always ends with an empty line: HAProxy went away while answering.
      throw new TransientError(`${this.where()}: the answer to "${shorten(line)}" was cut short`);
    }
    if (answers.length > commands.length) {
      throw new ConfigurationError(`${this.where()}: unexpected answer to "${shorten(line)}": ${quote(raw)}`);
    }
    return answers;
  }

  /** Commands that answer nothing when they succeed: any answer is HAProxy refusing one of them. */
  async change(commands: readonly RuntimeCommand[]): Promise<void> {
    for (const batch of batches(commands)) {
      const answers = await this.run(batch);
      answers.forEach((answer, i) => {
        if (answer !== '') throw this.refused(batch[i] as RuntimeCommand, answer);
      });
    }
  }

  /** The error for an answer that is not what the command answers when it works. */
  refused(command: RuntimeCommand, answer: string): ConfigurationError {
    return new ConfigurationError(
      `${this.where()}: HAProxy answered "${shorten(commandText(command))}" with ${quote(answer)}`,
    );
  }

  private where(): string {
    return `HAProxy runtime API ${this.address}`;
  }

  private exchange(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (error: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve(Buffer.concat(chunks).toString('utf8'));
      };
      const socket = connect(this.target);
      const timer = setTimeout(
        () => finish(new TransientError(`${this.where()}: no answer within ${this.timeoutMs}ms`)),
        this.timeoutMs,
      );
      socket.on('connect', () => socket.write(`${line}\n`));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      // In non-interactive mode HAProxy closes the connection once it has answered the line.
      socket.on('end', () => finish(null));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'unknown error';
        const message = `${this.where()}: ${code}`;
        finish(CONFIGURATION_CODES.has(code) ? new ConfigurationError(message) : new TransientError(message));
      });
    });
  }
}

function parseAddress(address: string): NetConnectOpts {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  const match = /^tcp:\/\/(?:\[([0-9A-Fa-f:]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    throw new ConfigurationError(
      `runtimeApi ${JSON.stringify(address)}: expected tcp://HOST:PORT or unix:/path`,
    );
  }
  return { host: match[1] ?? match[2], port };
}

function commandText(words: RuntimeCommand): string {
  for (const word of words) {
    if (!SAFE_WORD.test(word)) {
      throw new ConfigurationError(
        `refusing to send ${JSON.stringify(word)} to HAProxy: whitespace, ";", "\\" and control characters are not allowed`,
      );
    }
  }
  return words.join(' ');
}

/** Groups commands into lines HAProxy reads whole. */
function batches(commands: readonly RuntimeCommand[]): RuntimeCommand[][] {
  const lines: RuntimeCommand[][] = [];
  let current: RuntimeCommand[] = [];
  let chars = 0;
  for (const command of commands) {
    const length = commandText(command).length + 2;
    if (current.length > 0 && chars + length > MAX_LINE_CHARS) {
      lines.push(current);
      current = [];
      chars = 0;
    }
    current.push(command);
    chars += length;
  }
  if (current.length > 0) lines.push(current);
  return lines;
}

/** Every answer ends with an empty line; answers to the commands we send contain none. */
function splitAnswers(raw: string): string[] {
  // The text after the last newline is empty, or a fragment of an answer that was cut.
  const lines = raw.split('\n').slice(0, -1);
  const answers: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    if (line === '') {
      answers.push(current.join('\n'));
      current = [];
    } else {
      current.push(line);
    }
  }
  // Lines after the last empty one belong to an answer that was cut: not returned.
  return answers;
}

const shorten = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** HAProxy's answer for a message: an unknown command answers with the whole help text. */
function quote(answer: string): string {
  const lines = answer.split('\n').slice(0, 3).join(' / ');
  return JSON.stringify(lines.length > 300 ? `${lines.slice(0, 300)}…` : lines);
}

/** A server of `show servers state`; fields the adapters use, read by the header's names. */
export interface ServerState {
  backend: string;
  name: string;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  opState: number;
  /** Bit field: see MAINT_BITS and DRAIN_BITS. */
  adminState: number;
  /** The weight in force (`set weight`), 0–256. */
  userWeight: number;
}

/** HAProxy's SRV_ADMF_MAINT: forced (set server state maint), inherited, or DNS resolution failure. */
export const MAINT_BITS = 0x23;
/** HAProxy's SRV_ADMF_DRAIN: only persistent users, no new ones. */
export const DRAIN_BITS = 0x18;

/** Parses `show servers state [backend]` (format 1). */
export function parseServersState(answer: string): ServerState[] {
  const lines = answer.split('\n');
  const header = lines[1]?.startsWith('# ') ? lines[1].slice(2).split(' ') : undefined;
  if (lines[0] !== '1' || !header) {
    throw new ConfigurationError(`show servers state: unexpected answer ${quote(answer)}`);
  }
  const column = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0) throw new ConfigurationError(`show servers state: no ${name} column in ${quote(answer)}`);
    return index;
  };
  const at = {
    backend: column('be_name'),
    name: column('srv_name'),
    opState: column('srv_op_state'),
    adminState: column('srv_admin_state'),
    userWeight: column('srv_uweight'),
  };
  return lines.slice(2).map((line) => {
    const fields = line.split(' ');
    const number = (index: number): number => {
      const value = Number(fields[index]);
      if (!Number.isInteger(value))
        throw new ConfigurationError(`show servers state: bad line ${quote(line)}`);
      return value;
    };
    return {
      backend: fields[at.backend] ?? '',
      name: fields[at.name] ?? '',
      opState: number(at.opState),
      adminState: number(at.adminState),
      userWeight: number(at.userWeight),
    };
  });
}

export interface MapEntry {
  key: string;
  value: string;
}

/** Parses `show map <file>`: one "<pointer> <key> <value>" line per entry. */
export function parseMap(file: string, answer: string): MapEntry[] {
  if (answer === '') return [];
  return answer.split('\n').map((line) => {
    const match = /^0x[0-9a-f]+ (\S+)(?: (.*))?$/.exec(line);
    if (!match) throw new ConfigurationError(`show map ${file}: unexpected answer ${quote(answer)}`);
    return { key: match[1] as string, value: match[2] ?? '' };
  });
}

/** Parses `show stat` CSV into rows keyed by the header's names (the column order changes across versions). */
export function parseStat(answer: string): Record<string, string>[] {
  const [first, ...rows] = answer.split('\n');
  if (!first?.startsWith('# ')) throw new ConfigurationError(`show stat: unexpected answer ${quote(answer)}`);
  const header = first.slice(2).split(',');
  return rows.map((row) => {
    const fields = row.split(',');
    return Object.fromEntries(header.map((name, i) => [name, fields[i] ?? '']));
  });
}

/** Parses `show info`: "Name: value" lines. */
export function parseInfo(answer: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of answer.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) info[line.slice(0, colon)] = line.slice(colon + 2);
  }
  if (info.Pid === undefined) throw new ConfigurationError(`show info: unexpected answer ${quote(answer)}`);
  return info;
}
