import type { LogLevel } from '../domain/run.ts';
import type { SandboxContextData, SandboxLimits } from '../ports/sandbox-host.ts';

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
      code: string;
      context: SandboxContextData;
      limits: SandboxLimits;
      /** capability name → method names; the functions stay in the parent. */
      capabilities: Record<string, string[]>;
      settings: RunSettings;
    }
  | { t: 'host-result'; id: number; callId: number; ok: true; json: string | undefined }
  | { t: 'host-result'; id: number; callId: number; ok: false; message: string; code: string | undefined }
  | { t: 'abort'; id: number; reason: 'cancelled' | 'timeout' }
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
  | { t: 'done'; id: number; outcome: ChildOutcome }
  /** The answer to a ping, with the child's resident memory (for platforms without /proc). */
  | { t: 'pong'; seq: number; rssBytes: number };
