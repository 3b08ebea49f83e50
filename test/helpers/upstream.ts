import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  server: Server;
  url: string;
  /** Drops kept-alive connections too, so a test never waits on an idle socket. */
  close(): Promise<void>;
}

/** A real HTTP server on a free loopback port, standing in for a deployed version. */
export async function startUpstream(handler: RequestListener): Promise<Upstream> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An upstream answering its own name, so the body says who served a request. */
export const answeringName = (name: string): Promise<Upstream> =>
  startUpstream((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
