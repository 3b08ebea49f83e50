import { createServer, type Server, type Socket, connect } from 'node:net';

export interface TcpRelayOptions {
  /** Where to forward, e.g. the router's admin URL (only its host and port are used). */
  target: string;
  /** Listen port; 0 picks one, and restarts reuse whatever was picked. */
  port?: number;
  /** Client → target bytes are held this long before they are forwarded. */
  delayMs?: number;
  /** Sees every client → target chunk as it arrives (before the delay). */
  onClientData?: (text: string) => void;
}

/**
 * A TCP relay on loopback in front of a service, to stand in for a network path that can be slow
 * or gone. `down()` closes the listener and cuts every open connection (keep-alive sockets too),
 * so clients get ECONNREFUSED; `up()` listens on the same port again.
 */
export class TcpRelay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly targetHost: string;
  private readonly targetPort: number;
  private listenPort: number;
  delayMs: number;
  /** Connections accepted and client chunks seen since start, for tests that want to know traffic went through. */
  connections = 0;
  chunks = 0;
  /** Date.now() of every client chunk, so a benchmark can see when a client last did something. */
  readonly chunkTimes: number[] = [];

  constructor(private readonly opts: TcpRelayOptions) {
    const url = new URL(opts.target);
    this.targetHost = url.hostname;
    this.targetPort = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    this.listenPort = opts.port ?? 0;
    this.delayMs = opts.delayMs ?? 0;
  }

  static async start(opts: TcpRelayOptions): Promise<TcpRelay> {
    const relay = new TcpRelay(opts);
    await relay.up();
    return relay;
  }

  get port(): number {
    return this.listenPort;
  }

  /** http://127.0.0.1:<port>, usable in a spec's adminUrl. */
  get url(): string {
    return `http://127.0.0.1:${this.listenPort}`;
  }

  get isUp(): boolean {
    return this.server !== null;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (typeof address === 'object' && address) this.listenPort = address.port;
    this.server = server;
  }

  /** Refuse new connections and cut the open ones. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.down();
  }

  private relay(client: Socket): void {
    this.connections++;
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let lastDue = 0;
    let pending = 0;
    let clientEnded = false;
    const endUpstreamWhenFlushed = () => {
      if (clientEnded && pending === 0) upstream.end();
    };
    client.on('data', (chunk: Buffer) => {
      this.chunks++;
      this.chunkTimes.push(Date.now());
      this.opts.onClientData?.(chunk.toString('latin1'));
      if (this.delayMs <= 0 && pending === 0) {
        upstream.write(chunk);
        return;
      }
      // Same delay for every chunk, never reordered: a chunk is due no earlier than the one before.
      const due = Math.max(performance.now() + this.delayMs, lastDue);
      lastDue = due;
      pending++;
      setTimeout(
        () => {
          pending--;
          if (!upstream.destroyed) upstream.write(chunk);
          endUpstreamWhenFlushed();
        },
        Math.max(0, due - performance.now()),
      );
    });
    // A client that goes away (a killed worker) does not take back what it already sent:
    // delayed bytes are still delivered, as they would be by a slow network.
    client.on('end', () => {
      clientEnded = true;
      endUpstreamWhenFlushed();
    });
    client.on('close', () => {
      clientEnded = true;
      this.sockets.delete(client);
      endUpstreamWhenFlushed();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    upstream.on('end', () => client.end());
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.on('error', () => undefined);
    upstream.on('error', () => client.destroy());
  }
}
