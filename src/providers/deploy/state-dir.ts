import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where locally deployed processes leave pid files and logs. */
export function stateDir(...parts: string[]): string {
  const dir = resolve(process.env.DURABLE_ROLLOUTS_STATE_DIR ?? '.state', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function processKey(service: string, version: string, target: string): string {
  return `${service}-${version}-${new URL(target).port || 'default'}`;
}
