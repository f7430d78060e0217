import { readFileSync } from 'node:fs';

/**
 * A process's resident memory in bytes, read from /proc (Linux), or undefined where there is
 * no procfs. Read by the parent, so it is known even while the child's main thread is blocked
 * and includes native memory (ICU, array buffers, malloc arenas) that no isolate limit sees.
 */
export function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const line = status.split('\n').find((l) => l.startsWith('VmRSS:'));
  const kb = line ? Number.parseInt(line.slice('VmRSS:'.length).trim(), 10) : Number.NaN;
  return Number.isFinite(kb) ? kb * 1024 : undefined;
}
