import { readFileSync } from 'node:fs';

/**
 * Telling whether a pid recorded in Redis is still the instance process that was started,
 * so a supervisor can adopt (or stop) what a predecessor left running without ever touching
 * a process that merely reuses the pid. Linux /proc only: elsewhere nothing is recognised,
 * and a new supervisor starts fresh instances instead.
 */

/**
 * The process's start time (field 22 of /proc/<pid>/stat, clock ticks since boot), which
 * together with the pid names one process for the life of the host. Undefined when the
 * process is gone or a zombie (a reparented instance may never be reaped in a container).
 */
export function processStartOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

/** Whether `pid` is the process started for `instanceId` (its environment names it). */
export function runsInstance(pid: number, instanceId: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`VEER_INSTANCE=${instanceId}`);
  } catch {
    return false;
  }
}

/** Whether `pid` is still the very process recorded as started at `procStart` for `instanceId`. */
export function isSameInstanceProcess(pid: number, instanceId: string, procStart: string | undefined): boolean {
  return procStart !== undefined && processStartOf(pid) === procStart && runsInstance(pid, instanceId);
}
