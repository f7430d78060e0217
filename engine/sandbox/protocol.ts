import type { LogLevel } from '../domain/run.ts';
import type { SandboxContextData, SandboxLimits } from '../ports/sandbox-host.ts';
import type { IsolateReuse } from './isolate-pool.ts';

/**
 * Messages between the engine (parent) and a sandbox child process. Everything is plain
 * JSON: user values cross as JSON strings so that neither side ever holds an object the
 * other side (or the script) built.
 */

/** File name given to the user's module; stack frames naming it are the user's. */
export const SCRIPT_FILENAME = 'script';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Names `ctx` already uses; a capability may not take them. */
export const RESERVED_CTX_NAMES: readonly string[] = ['input', 'env', 'workflow', 'run', 'log', 'sleep'];

export interface RunSettings {
  maxLogEntries: number;
  maxLogMessageChars: number;
  maxLogFieldsChars: number;
  maxHostArgsChars: number;
}

export type ParentMessage =
  | {
      t: 'run';
      id: number;
      /** code-key.ts: workflow name@version#sha256(code). The child runs only code whose hash it checked. */
      codeKey: string;
      /** Left out when the host believes the child has the key cached; a miss is answered with `code-miss`. */
      code?: string;
      /** Set when isolates may be reused across runs of this version (off by default). */
      reuse?: IsolateReuse;
      context: SandboxContextData;
      limits: SandboxLimits;
      /** capability name → method names; the functions stay in the parent. */
      capabilities: Record<string, string[]>;
      settings: RunSettings;
    }
  | { t: 'host-result'; id: number; callId: number; ok: true; json: string | undefined }
  | { t: 'host-result'; id: number; callId: number; ok: false; message: string; code: string | undefined }
  | { t: 'abort'; id: number; reason: 'cancelled' | 'timeout' }
  /** The child takes no more runs (recycled or shut down): it drops its spare isolate and makes no more. */
  | { t: 'retire' }
  /** Liveness probe: a child whose main thread is blocked cannot answer, and is killed. */
  | { t: 'ping'; seq: number };

/** The end of a run as the child reports it; `resultJson` is parsed by the parent. */
export type ChildOutcome =
  | { status: 'succeeded'; resultJson: string | undefined }
  | { status: 'failed' | 'timed_out' | 'cancelled'; error: { code: string; message: string; line?: number; column?: number; stack?: string } };

export type ChildMessage =
  | { t: 'ready'; pid: number }
  | { t: 'host-call'; id: number; callId: number; capability: string; method: string; args: string }
  | { t: 'log'; id: number; level: LogLevel; message: string; fields: string | undefined }
  /** `spare`: the run got an isolate made before it (fresh, never run in; spare-isolate.ts). */
  | { t: 'done'; id: number; outcome: ChildOutcome; reused: boolean; spare: boolean }
  /** The run was sent without its code and the child does not have it (evicted): send it again with the code. */
  | { t: 'code-miss'; id: number }
  /** The answer to a ping, with the child's resident memory (for platforms without /proc). */
  | { t: 'pong'; seq: number; rssBytes: number };
