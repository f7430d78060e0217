import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from './protocol.ts';

/** One sandbox child process, as the pool sees it. */
export interface SandboxChild {
  readonly pid: number | undefined;
  readonly ready: boolean;
  readonly exited: boolean;
  send: (message: ParentMessage) => void;
  /** SIGKILL: for a child that does not stop a run when told to. */
  kill: () => void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop: (graceMs: number) => Promise<void>;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of the child's stderr (V8 prints fatal errors there). */
  stderr: string;
  wasReady: boolean;
}

export interface ForkChildOptions {
  onMessage: (message: ChildMessage) => void;
  onReady: () => void;
  onExit: (exit: ChildExit) => void;
  /** Extra Node flags for the child (e.g. --max-old-space-size); --no-node-snapshot is always passed. */
  execArgv?: string[];
  /** The child's whole environment (config: `engine.sandboxEnv`, i.e. TZ, LANG, LC_ALL). Default: empty. */
  env?: Record<string, string>;
}

const ENTRY = fileURLToPath(new URL('./child-main.ts', import.meta.url));
const STDERR_TAIL = 4000;

/**
 * Forks child-main.ts. The child gets an almost empty environment: whatever a script could
 * ever reach there (it should reach nothing) holds no tokens, URLs or passwords of the engine.
 */
export function forkSandboxChild(options: ForkChildOptions): SandboxChild {
  const env: NodeJS.ProcessEnv = { ...options.env };
  const child = fork(ENTRY, [], {
    execArgv: ['--no-node-snapshot', ...(options.execArgv ?? [])],
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let ready = false;
  let exited = false;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
  });
  child.on('message', (raw) => {
    const message = raw as ChildMessage;
    if (message.t === 'ready') {
      ready = true;
      options.onReady();
      return;
    }
    options.onMessage(message);
  });
  // A write to a dying child fails asynchronously; the exit handler deals with its runs.
  child.on('error', () => {});
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve();
      // Let the stderr pipe drain so that the crash message is in the report.
      setImmediate(() => options.onExit({ code, signal, stderr: stderr.trim(), wasReady: ready }));
    });
  });
  return {
    get pid() {
      return child.pid;
    },
    get ready() {
      return ready && !exited;
    },
    get exited() {
      return exited;
    },
    send: (message) => {
      if (!exited && child.connected) child.send(message, (err) => void err);
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
    stop: async (graceMs) => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
