import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { usageError } from './errors.ts';

/** Where and as whom the CLI talks to Veer. */
export interface Connection {
  url: string;
  /** Never printed: `config view` masks it. */
  token: string | undefined;
  /** Where it came from, for `veer config current-context` and error messages. */
  source: string;
}

export interface ContextEntry {
  name: string;
  url: string;
  token?: string;
  /** Read the token from this environment variable instead of storing it. */
  tokenEnv?: string;
}

export interface CliConfig {
  currentContext?: string;
  contexts: ContextEntry[];
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `$VEER_CONFIG`, else `$XDG_CONFIG_HOME/veer/config.yaml`, else `~/.config/veer/config.yaml`. */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.VEER_CONFIG) return env.VEER_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'veer', 'config.yaml');
}

export async function readCliConfig(path: string): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: [] };
    throw err;
  }
  const raw = (parse(text) ?? {}) as Partial<CliConfig>;
  if (typeof raw !== 'object' || (raw.contexts !== undefined && !Array.isArray(raw.contexts)))
    throw usageError(`${path}: expected { currentContext, contexts: [{ name, url, token | tokenEnv }] }`);
  const contexts = (raw.contexts ?? []).map((c, i) => {
    if (!c || typeof c.name !== 'string' || typeof c.url !== 'string') throw usageError(`${path}: contexts[${i}] needs a name and a url`);
    return c;
  });
  return { ...(typeof raw.currentContext === 'string' ? { currentContext: raw.currentContext } : {}), contexts };
}

/** Written owner-only: a context may hold a token. */
export async function writeCliConfig(path: string, config: CliConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, stringify(config), { mode: 0o600 });
  await chmod(path, 0o600);
}

export interface ConnectionFlags {
  url?: string;
  token?: string;
  context?: string;
}

/**
 * Flags first, then VEER_URL / VEER_TOKEN, then the chosen (or current) context, then the local
 * default: a flag always wins, so a one-off command never needs the config edited.
 */
export async function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<Connection> {
  const path = configPath(env);
  const config = await readCliConfig(path);
  const wanted = flags.context ?? (flags.url || env.VEER_URL ? undefined : config.currentContext);
  const ctx = wanted === undefined ? undefined : config.contexts.find((c) => c.name === wanted);
  if (wanted !== undefined && !ctx) throw usageError(`no context '${wanted}' in ${path} (veer config get-contexts lists them)`);
  const url = flags.url ?? env.VEER_URL ?? ctx?.url ?? DEFAULT_URL;
  const token = flags.token ?? env.VEER_TOKEN ?? (ctx?.tokenEnv ? env[ctx.tokenEnv] : ctx?.token);
  const source = flags.url ? '--url' : env.VEER_URL ? 'VEER_URL' : ctx ? `context '${ctx.name}'` : 'default';
  try {
    new URL(url);
  } catch {
    throw usageError(`not a URL: '${url}' (from ${source})`);
  }
  return { url, token: token || undefined, source };
}
