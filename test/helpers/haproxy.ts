import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable, locate, notInstalledError, SERVICES } from '../setup/services.ts';
import { tempDir } from './process.ts';

/**
 * The HAProxy binary: $VEER_HAPROXY_BIN, else `haproxy` on PATH, else Debian's /usr/sbin/haproxy.
 * Throws, naming haproxy and the command that installs it, when there is none: the agent would
 * otherwise keep retrying a spawn that fails with ENOENT while the test waits for traffic.
 */
export function haproxyBin(): string {
  const wanted = process.env.VEER_HAPROXY_BIN;
  const found = wanted ? findExecutable(wanted) : locate(SERVICES.find((s) => s.helper === 'test/helpers/haproxy.ts')!);
  if (!found) throw notInstalledError(wanted || 'haproxy');
  return found;
}

/**
 * A temp work dir for one HAProxy (config, admin socket, route sockets, pid, state). Short
 * on purpose: unix socket paths are limited to 107 bytes. `remove()` first stops any HAProxy
 * whose pid file is in it, by PID. Throws like haproxyBin() when HAProxy is not installed, since
 * the dir is only ever made to run one.
 */
export async function haproxyWorkDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  haproxyBin();
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
