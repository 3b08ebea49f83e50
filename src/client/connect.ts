import { status } from '@grpc/grpc-js';
import { Client, Connection, isGrpcDeadlineError, isGrpcServiceError } from '@temporalio/client';
import { temporalTarget } from '../temporal/target';

export interface ConnectedClient {
  client: Client;
  close(): Promise<void>;
}

/** The channel never became ready within the connect timeout: nothing answered at the address. */
export class TemporalUnreachableError extends Error {
  constructor(address: string, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`cannot reach Temporal at ${address}: ${reason}`, options);
    this.name = 'TemporalUnreachableError';
  }
}

/**
 * Whether Temporal could not be reached (now, or within a deadline): the CLI's exit 4. Read from
 * the error's class and gRPC status, wherever the SDK nested it, never from its message.
 */
export function isTemporalUnreachable(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof TemporalUnreachableError) return true;
    if (isGrpcServiceError(e) && e.code === status.UNAVAILABLE) return true;
  }
  return false;
}

export async function connectClient(): Promise<ConnectedClient> {
  const { connectionOptions, namespace } = temporalTarget();
  // lazy() then ensureConnected() is what Connection.connect does; split so that only the wait for
  // the server is classified. grpc-js reports that wait's timeout as a plain Error, with no status.
  const connection = Connection.lazy(connectionOptions);
  try {
    await connection.ensureConnected();
  } catch (err) {
    await connection.close();
    if (isGrpcServiceError(err) || (err instanceof Error && isGrpcServiceError(err.cause))) throw err;
    throw new TemporalUnreachableError(connectionOptions.address ?? 'localhost:7233', { cause: err });
  }
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}
