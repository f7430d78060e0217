import type { Command } from 'commander';
import { createVeerClient, send, type VeerClient } from './client.ts';
import { resolveConnection, type Connection } from './connection.ts';
import { formatData, outputFormat, type OutputFormat } from './output.ts';

/** What every command gets: the connection and client (resolved on first use), output helpers. */
export interface CommandContext {
  connection(): Promise<Connection>;
  client(): Promise<VeerClient>;
  /** Awaits an API call made with the client: its data, or a CliError with the right exit code. */
  send<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T>;
  /** The -o/--output format chosen on the command line. */
  format(): OutputFormat;
  /** Prints `data` as JSON/YAML when asked, else the human text `human()` makes. */
  print(data: unknown, human: () => string): void;
  out(text: string): void;
  err(text: string): void;
  /** Aborted on SIGINT/SIGTERM: followers and watchers stop cleanly. */
  signal: AbortSignal;
  /** The process environment, read once by main.ts (config lookups, valueFrom.env in manifests). */
  env: NodeJS.ProcessEnv;
}

interface GlobalOptions {
  url?: string;
  token?: string;
  context?: string;
  output?: string;
}

export function createCommandContext(program: Command, signal: AbortSignal, env: NodeJS.ProcessEnv): CommandContext {
  let conn: Promise<Connection> | undefined;
  let client: Promise<VeerClient> | undefined;
  const opts = () => program.opts<GlobalOptions>();
  const connection = () => (conn ??= resolveConnection({ url: opts().url, token: opts().token, context: opts().context }, env));
  const ctx: CommandContext = {
    connection,
    client: () => (client ??= connection().then(createVeerClient)),
    send: async (call) => send(await connection(), call),
    format: () => outputFormat(opts().output),
    print(data, human) {
      const f = ctx.format();
      ctx.out(f === 'table' ? human() : formatData(data, f));
    },
    out: (text) => void process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`),
    err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    signal,
    env,
  };
  return ctx;
}
