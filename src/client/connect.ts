import { Client, Connection } from '@temporalio/client';
import { temporalTarget } from '../temporal/target';

export interface ConnectedClient {
  client: Client;
  close(): Promise<void>;
}

export async function connectClient(): Promise<ConnectedClient> {
  const { connectionOptions, namespace } = temporalTarget();
  const connection = await Connection.connect(connectionOptions);
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}
