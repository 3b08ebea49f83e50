import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const USER_HZ = 100; // /proc/stat counts in USER_HZ ticks, 100 on Linux whatever the kernel's HZ

/** CPU seconds the whole machine spent busy (all cores, iowait counted as idle), from /proc/stat. */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
    return busy / USER_HZ;
  } catch {
    return undefined;
  }
}

export const CORES = availableParallelism();
