import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { startDevServer, type DevServer, type DevServerOptions } from '../../src/devserver/dev-server';

/**
 * A dev server as its own process (so it can be stopped and started again on the same port and
 * database file) and a client for it. The client's connection reconnects by itself.
 */
export class FaultEnv {
  private constructor(
    public server: DevServer,
    private readonly options: DevServerOptions,
    readonly connection: Connection,
    readonly client: Client,
  ) {}

  static async start(options: DevServerOptions = {}): Promise<FaultEnv> {
    const server = await startDevServer(options);
    const connection = await Connection.connect({ address: server.address });
    return new FaultEnv(server, options, connection, new Client({ connection }));
  }

  get address(): string {
    return this.server.address;
  }

  /** SIGTERM (SIGKILL after 5 s), as the dev-server helper does. */
  stopServer(): Promise<void> {
    return this.server.stop();
  }

  /** The same port and options (so the same dbFilename, if one was given). */
  async startServer(): Promise<void> {
    const port = Number(this.server.address.split(':').pop());
    this.server = await startDevServer({ ...this.options, port });
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
    await this.server.stop();
  }
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  if (!t) return 0;
  return Number(t.seconds?.toString() ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/**
 * When a worker first did something for this workflow at or after `sinceMs` (epoch ms): the first
 * workflow task or activity it completed, from the server's history. Undefined if none yet.
 */
export async function firstWorkerProgressAfter(
  handle: WorkflowHandle,
  sinceMs: number,
): Promise<number | undefined> {
  const history = await handle.fetchHistory();
  for (const event of history.events ?? []) {
    const worked = event.workflowTaskCompletedEventAttributes || event.activityTaskCompletedEventAttributes;
    if (worked && eventMs(event) >= sinceMs) return eventMs(event);
  }
  return undefined;
}

/** Every activity attempt the server started, with its type and attempt number, in order. */
export async function activityAttempts(
  handle: WorkflowHandle,
): Promise<{ type: string; attempt: number; at: number; lastFailure: string | null }[]> {
  const history = await handle.fetchHistory();
  const types = new Map<string, string>();
  const out: { type: string; attempt: number; at: number; lastFailure: string | null }[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      out.push({
        type: types.get(String(started.scheduledEventId)) ?? '?',
        attempt: started.attempt ?? 1,
        at: eventMs(event),
        lastFailure: started.lastFailure?.message ?? null,
      });
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Things a test started, closed in reverse order whatever happened (a failed assert must not hang the run). */
export class Cleanup {
  private readonly steps: (() => unknown)[] = [];

  add<T>(value: T, close: (value: T) => unknown): T {
    this.steps.push(() => close(value));
    return value;
  }

  async run(): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch {
        // Keep closing the rest.
      }
    }
    this.steps.length = 0;
  }
}
