import { spawn } from 'node:child_process';
import { processStartOf } from './process-identity.ts';

/**
 * The process behind an instance, whether this supervisor spawned it or adopted it from a
 * predecessor that died (then it is not our child: no exit event, no pipes, so its exit is
 * noticed by polling /proc).
 */
export interface InstanceProcess {
  readonly pid: number | undefined;
  /** Start time from /proc (see process-identity.ts), recorded so a successor can recognise it. */
  readonly procStart: string | undefined;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the process has exited (code and signal are unknown for an adopted one). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  /** Receives stdout and stderr. */
  onOutput: (chunk: Buffer) => void;
}

export function spawnInstanceProcess(o: SpawnOptions): InstanceProcess {
  const c = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  c.stdout?.on('data', o.onOutput);
  c.stderr?.on('data', o.onOutput);
  c.on('error', (err) => o.onOutput(Buffer.from(`\nspawn error: ${err.message}`)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    pid: c.pid,
    procStart: c.pid === undefined ? undefined : processStartOf(c.pid),
    kill: (signal) => void c.kill(signal),
    exited,
  };
}

/** Takes over a running instance process; `pollMs` bounds how late its exit is noticed. */
export function adoptInstanceProcess(pid: number, procStart: string, pollMs: number): InstanceProcess {
  const exited = new Promise<{ code: null; signal: null }>((resolve) => {
    const timer = setInterval(() => {
      if (processStartOf(pid) === procStart) return;
      clearInterval(timer);
      resolve({ code: null, signal: null });
    }, pollMs);
    timer.unref();
  });
  return {
    pid,
    procStart,
    kill(signal) {
      // Never signal a pid that now names another process.
      if (processStartOf(pid) !== procStart) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
    exited,
  };
}
