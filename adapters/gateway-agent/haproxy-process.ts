import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VeerError } from '../../engine/shared/errors.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { delay } from '../../engine/shared/wait.ts';
import { adminSocketPath, configPath, pidFilePath, stateFilePath } from './render.ts';
import { createRuntimeApi } from './runtime-api.ts';

/**
 * Starts, reloads and stops one HAProxy. Reloads are the measured hitless kind
 * (services.md §3.5): `haproxy -D -f cfg -x admin.sock -sf <old pid>` — the new process
 * takes the listening sockets over the admin socket (`expose-fd listeners`) and the old
 * one finishes its connections (`idle-close-on-response`, bounded by `hard-stop-after`).
 * Server state is saved first, so runtime-only state survives the reload.
 */
export interface HaproxyProcess {
  /** `haproxy -c` on a candidate config; `output` holds HAProxy's complaints. */
  validate(config: string): Promise<{ ok: boolean; output: string }>;
  /** Writes the config and starts HAProxy, or reloads it when running. Throws with HAProxy's output on failure (the old process keeps serving). */
  apply(config: string): Promise<void>;
  /**
   * Writes the config file without reloading (weights and servers already changed at runtime),
   * so a later reload or restart starts from it, and refreshes the server-state file to match.
   */
  persist(config: string): Promise<void>;
  /**
   * Starts HAProxy again from the config file on disk (the last applied one, runtime changes
   * included) when it is not running: it died. False when it was running. Never overlaps
   * `apply`, so a reload in progress is not mistaken for a death.
   */
  restart(): Promise<boolean>;
  pid(): Promise<number | undefined>;
  running(): Promise<boolean>;
  /** Stops every HAProxy process this object started (current and still-draining old ones). */
  stop(): Promise<void>;
  readonly reloads: number;
}

export interface HaproxyProcessOptions {
  bin: string;
  dir: string;
  logger: Logger;
}

/** Daemonized processes linger as zombies until PID 1 reaps them: treat 'Z' as gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Synchronous so it can sit in polling loops; /proc reads are cheap.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function run(bin: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: -1, output: `${output}\ncannot run ${bin}: ${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const meaningful = (output: string) =>
  output
    .split('\n')
    .filter((l) => /\[(ALERT|WARNING)\]/.test(l) && !/server state file|could not resolve address|disabling server/i.test(l))
    .join('\n');

/** `<backend> <server>` for every server the config declares. */
function declaredServers(config: string): Set<string> {
  const out = new Set<string>();
  let section: string | undefined;
  for (const line of config.split('\n')) {
    const head = /^(backend|listen|frontend|global|defaults)\b\s*(\S*)/.exec(line);
    if (head) section = head[1] === 'backend' || head[1] === 'listen' ? head[2] : undefined;
    const srv = section && /^\s+server\s+(\S+)\s/.exec(line);
    if (srv) out.add(`${section} ${srv[1]}`);
  }
  return out;
}

/**
 * `show servers state` restricted to the servers `config` declares. HAProxy matches state
 * lines by backend and server name, so a line left over for a server removed at runtime (or
 * caught in maintenance while being removed) must not reach a later server of the same name.
 */
export function stateForConfig(state: string, config: string): string {
  const declared = declaredServers(config);
  return state
    .split('\n')
    .filter((line, i) => {
      if (i === 0 || line === '' || line.startsWith('#')) return true;
      const f = line.split(' ');
      return declared.has(`${f[1]} ${f[3]}`);
    })
    .join('\n');
}

export function createHaproxyProcess(options: HaproxyProcessOptions): HaproxyProcess {
  const { bin, dir } = options;
  const log = options.logger.child({ component: 'haproxy' });
  const api = createRuntimeApi(adminSocketPath(dir));
  const started = new Set<number>();
  let reloads = 0;
  // apply and restart one at a time: during a reload the pid file may still name the old process.
  let serial: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = serial.then(fn, fn);
    serial = next.catch(() => undefined);
    return next;
  };

  const ensureDir = async () => {
    await mkdir(join(dir, 'r'), { recursive: true });
    if (!existsSync(stateFilePath(dir))) await writeFile(stateFilePath(dir), '');
  };
  const readPid = async () => {
    try {
      const n = Number((await readFile(pidFilePath(dir), 'utf8')).trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  };
  const writeAtomic = async (path: string, text: string) => {
    const tmp = `${path}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  };
  const writeConfig = (config: string) => writeAtomic(configPath(dir), config);
  /** Saves the running servers' state for the servers of `config` (the one about to be loaded). */
  const saveState = async (config: string) => {
    const state = await api.send(['show servers state']);
    if (state.startsWith('1')) await writeAtomic(stateFilePath(dir), stateForConfig(state, config));
  };

  /** Writes `config` and starts HAProxy, or reloads it when running (see `apply`). */
  const applyNow = async (config: string) => {
    await ensureDir();
    let previous: string | undefined;
    try {
      previous = await readFile(configPath(dir), 'utf8');
    } catch {
      previous = undefined;
    }
    await writeConfig(config);
    const old = await readPid();
    const reload = old !== undefined && processAlive(old);
    const args = ['-D', '-f', configPath(dir)];
    if (reload) {
      try {
        await saveState(config);
      } catch (err) {
        log.warn({ err }, 'could not save server state before reload; runtime-only state may be lost');
      }
      if (existsSync(adminSocketPath(dir))) args.push('-x', adminSocketPath(dir));
      args.push('-sf', String(old));
    }
    const { code, output } = await run(bin, args);
    if (code !== 0) {
      // Keep the file in step with what runs, so a later restart does not pick up the bad one.
      if (previous !== undefined) await writeConfig(previous);
      throw new VeerError('GATEWAY.HAPROXY_FAILED', `HAProxy ${reload ? 'reload' : 'start'} failed (exit ${code}): ${meaningful(output) || output.trim()}`, {
        details: { output },
      });
    }
    const pid = await readPid();
    if (pid) started.add(pid);
    if (reload) reloads++;
    log.info({ pid, previous: old, reload }, reload ? 'HAProxy reloaded' : 'HAProxy started');
  };

  return {
    get reloads() {
      return reloads;
    },
    async validate(config) {
      await ensureDir();
      const file = join(dir, `check-${randomUUID().slice(0, 8)}.cfg`);
      await writeFile(file, config);
      try {
        const { code, output } = await run(bin, ['-c', '-f', file]);
        return { ok: code === 0, output: code === 0 ? '' : meaningful(output) || output.trim() };
      } finally {
        await rm(file, { force: true });
      }
    },
    async persist(config) {
      await ensureDir();
      await writeConfig(config);
      // A restart (not a reload: HAProxy died) loads this file: keep it as current as the config.
      try {
        await saveState(config);
      } catch (err) {
        log.warn({ err }, 'could not save server state after a runtime change');
      }
    },
    apply: (config) => exclusive(() => applyNow(config)),
    restart: () =>
      exclusive(async () => {
        const pid = await readPid();
        if (pid !== undefined && processAlive(pid)) return false;
        const config = await readFile(configPath(dir), 'utf8');
        await applyNow(config);
        return true;
      }),
    pid: readPid,
    async running() {
      const pid = await readPid();
      return pid !== undefined && processAlive(pid);
    },
    async stop() {
      const current = await readPid();
      if (current) started.add(current);
      const pids = [...started].filter(processAlive);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      const deadline = Date.now() + 5000;
      while (pids.some(processAlive) && Date.now() < deadline) await delay(20);
      for (const pid of pids.filter(processAlive)) process.kill(pid, 'SIGKILL');
      started.clear();
    },
  };
}
