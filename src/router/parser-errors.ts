import http from 'node:http';
import type { Socket } from 'node:net';
import type { ClientErrorStats } from './client-errors';

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser rejects (malformed header, unknown
 * method token, headers too large) never reach a route, so this is the only place they can be
 * counted as client errors. The answers are the ones Fastify's default handler writes.
 */
export function parserErrorHandler(clientErrors: ClientErrorStats) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    // A reset, or a socket already gone, is a client hanging up, not a request anyone could answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;

    let status = 400;
    let message = 'Client Error';
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      message = 'Client Timeout';
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      message = 'Exceeded maximum allowed HTTP header size';
    }
    // A client too slow to send its request is not a malformed one.
    if (status !== 408) clientErrors.record('malformed-request', null);

    if (socket.writable) {
      const body = JSON.stringify({ error: http.STATUS_CODES[status], message, statusCode: status });
      socket.write(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}
