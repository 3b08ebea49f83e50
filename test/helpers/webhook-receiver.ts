import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/** One request the receiver got: its path, headers, parsed JSON body and when it arrived. */
export interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  at: number;
}

/** How the receiver answers a path: a status, after an optional delay (a slow or broken hook). */
export interface Answer {
  status: number;
  delayMs?: number;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port> */
  origin: string;
  received: ReceivedPost[];
  /** The posts to one path, in arrival order. */
  postsTo(path: string): ReceivedPost[];
  close(): Promise<void>;
}

/**
 * A real HTTP endpoint on loopback that records every POST, for alert tests. Paths answer 200 `ok`
 * (as Slack's incoming webhooks do) unless `answers` says otherwise.
 */
export function startWebhookReceiver(answers: Record<string, Answer> = {}): Promise<WebhookReceiver> {
  const received: ReceivedPost[] = [];
  const pending = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text: a test asserting on JSON then fails on it.
      }
      received.push({ path, headers: req.headers, body, at: Date.now() });
      const answer = answers[path] ?? { status: 200 };
      pending.add(res);
      setTimeout(() => {
        pending.delete(res);
        res.writeHead(answer.status, { 'content-type': 'text/plain' });
        res.end(answer.status < 300 ? 'ok' : 'failed');
      }, answer.delayMs ?? 0);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        origin: `http://127.0.0.1:${port}`,
        received,
        postsTo: (path) => received.filter((post) => post.path === path),
        close: async () => {
          for (const res of pending) res.destroy();
          server.closeAllConnections();
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}
