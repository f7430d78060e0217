import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './process.ts';

/** The HAProxy binary: $VEER_HAPROXY_BIN, else `haproxy` on PATH, else Debian's /usr/sbin/haproxy. */
export function haproxyBin(): string {
  if (process.env.VEER_HAPROXY_BIN) return process.env.VEER_HAPROXY_BIN;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'haproxy'))) return join(dir, 'haproxy');
  return '/usr/sbin/haproxy';
}

/**
 * A temp work dir for one HAProxy (config, admin socket, route sockets, pid, state). Short
 * on purpose: unix socket paths are limited to 107 bytes. `remove()` first stops any HAProxy
 * whose pid file is in it, by PID.
 */
export async function haproxyWorkDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await tempDir('gw');
  return {
    path: dir.path,
    remove: async () => {
      await stopHaproxyByPidFile(join(dir.path, 'haproxy.pid'));
      await dir.remove();
    },
  };
}

export async function stopHaproxyByPidFile(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // not running
  }
}
