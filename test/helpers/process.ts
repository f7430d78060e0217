import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, notInstalledError } from '../setup/services.ts';
import { WaitAborted, waitFor } from './wait-for.ts';

/** A temp directory removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `veer-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  /**
   * Throws (a WaitAborted, so `waitFor` gives up at once instead of polling to its deadline)
   * when the process has exited or could not be started, with its last output.
   */
  assertRunning: () => void;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/**
 * Starts a foreground service process, collecting its output for error messages. Throws at once,
 * naming the binary and how to install it, when `cmd` is not an executable on PATH: a spawn that
 * fails with ENOENT would otherwise leave the caller waiting for a server that never comes.
 */
export function startProcess(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ServiceProcess {
  const env = options.env ?? process.env;
  if (!findExecutable(cmd, [], env.PATH)) throw notInstalledError(cmd);
  const child = spawn(cmd, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let spawnError: Error | undefined;
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A failed spawn emits 'error' and never 'exit', so both end the wait below.
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    // `on`, not `once`: a later failed kill() also emits 'error', which must not go unhandled.
    child.on('error', (err) => {
      spawnError ??= err;
      out += `\nspawn error: ${err.message}`;
      resolve();
    });
  });
  return {
    child,
    output: () => out,
    assertRunning: () => {
      if (spawnError) throw new WaitAborted(`${cmd} could not be started: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new WaitAborted(`${cmd} exited (${child.signalCode ?? `code ${child.exitCode}`}): ${out.trim().slice(-2000)}`);
      }
    },
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null && !spawnError) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * The tail every service helper shares: waits until `ready()` answers true while `proc` keeps
 * running, and returns the stop that ends the process and removes its directory. When the
 * service exits or is not ready in time, it is stopped and cleaned up and the wait's error
 * (naming `what`) is thrown.
 */
export async function whenReady(
  proc: ServiceProcess,
  dir: { remove: () => Promise<void> },
  ready: () => Promise<boolean>,
  wait: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<() => Promise<void>> {
  const stop = async () => {
    await proc.stop();
    await dir.remove();
  };
  try {
    await waitFor(async () => {
      proc.assertRunning();
      return ready();
    }, wait);
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}
