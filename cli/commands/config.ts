import type { Command } from 'commander';
import { stringify } from 'yaml';
import { configPath, readCliConfig, writeCliConfig, type CliConfig, type ContextEntry } from '../connection.ts';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT, usageError } from '../errors.ts';
import { formatTable } from '../output.ts';

interface SetContextOptions {
  url?: string;
  token?: string;
  tokenEnv?: string;
}

/** How a context authenticates, for listings: never the token itself. */
const authOf = (c: ContextEntry): string => (c.tokenEnv ? `$${c.tokenEnv}` : c.token ? 'token' : 'none');

/** The config as shown by `config view`: stored tokens replaced by `***`. */
const masked = (config: CliConfig): CliConfig => ({
  ...config,
  contexts: config.contexts.map((c) => (c.token ? { ...c, token: '***' } : c)),
});

function findContext(config: CliConfig, name: string, path: string): ContextEntry {
  const found = config.contexts.find((c) => c.name === name);
  if (found) return found;
  const known = config.contexts.map((c) => c.name);
  throw new CliError(
    `no context '${name}' in ${path} (known: ${known.length ? known.join(', ') : 'none; add one with veer config set-context'})`,
    EXIT.notFound,
  );
}

/** `veer config …`: the contexts file (~/.config/veer/config.yaml or $VEER_CONFIG). */
export function registerConfig(program: Command, ctx: CommandContext): void {
  const config = program.command('config').description('Manage connection contexts ($VEER_CONFIG or ~/.config/veer/config.yaml)');
  const path = () => configPath(ctx.env);

  config
    .command('set-context <name>')
    .description('Create or update a context: where the API is and how to authenticate')
    .option('--url <url>', "the context's Veer API URL (required for a new context)")
    .option('--token-env <var>', 'read the token from this environment variable when the context is used (preferred)')
    .option('--token <token>', 'store this token in the config file (written owner-only)')
    .action(async (name: string, _opts: SetContextOptions, cmd: Command) => {
      // --url and --token are also global options, which commander may have taken for the
      // program: the merged view sees them wherever they were written.
      const o = cmd.optsWithGlobals<SetContextOptions>();
      if (o.token !== undefined && o.tokenEnv !== undefined) throw usageError('give either --token or --token-env, not both');
      if (o.url !== undefined) {
        try {
          new URL(o.url);
        } catch {
          throw usageError(`--url: not a URL: '${o.url}'`);
        }
      }
      const p = path();
      const cfg = await readCliConfig(p);
      const existing = cfg.contexts.find((c) => c.name === name);
      if (!existing && o.url === undefined) throw usageError(`--url is required for a new context ('${name}')`);
      const entry: ContextEntry = { ...existing, name, url: o.url ?? existing!.url };
      // Switching between a stored token and an environment variable drops the other one.
      if (o.token !== undefined) {
        entry.token = o.token;
        delete entry.tokenEnv;
      }
      if (o.tokenEnv !== undefined) {
        entry.tokenEnv = o.tokenEnv;
        delete entry.token;
      }
      cfg.contexts = existing ? cfg.contexts.map((c) => (c === existing ? entry : c)) : [...cfg.contexts, entry];
      // The first context becomes the current one, so a fresh setup needs one command.
      cfg.currentContext ??= name;
      await writeCliConfig(p, cfg);
      ctx.out(`context '${name}' ${existing ? 'updated' : 'created'}${cfg.currentContext === name ? ' (current)' : ''}`);
    });

  config
    .command('use-context <name>')
    .description('Make a context the current one')
    .action(async (name: string) => {
      const p = path();
      const cfg = await readCliConfig(p);
      findContext(cfg, name, p);
      cfg.currentContext = name;
      await writeCliConfig(p, cfg);
      ctx.out(`switched to context '${name}'`);
    });

  config
    .command('get-contexts')
    .description('List the contexts (the current one marked *)')
    .action(async () => {
      const cfg = await readCliConfig(path());
      const data = cfg.contexts.map((c) => ({ name: c.name, url: c.url, auth: authOf(c), current: c.name === cfg.currentContext }));
      ctx.print(data, () =>
        data.length === 0
          ? 'no contexts (veer config set-context <name> --url <url> adds one)'
          : formatTable(
              ['current', 'name', 'url', 'auth'],
              data.map((c) => [c.current ? '*' : ' ', c.name, c.url, c.auth]),
            ),
      );
    });

  config
    .command('current-context')
    .description('Print the current context and where the connection comes from')
    .action(async () => {
      const cfg = await readCliConfig(path());
      if (cfg.currentContext === undefined) throw new CliError(`no current context (veer config use-context <name>)`, EXIT.notFound);
      // VEER_URL or --url override the context: saying so saves a confused debugging session.
      const conn = await ctx.connection();
      const note = conn.source === `context '${cfg.currentContext}'` ? '' : ` (not in use: the connection comes from ${conn.source})`;
      ctx.out(`${cfg.currentContext}${note}`);
    });

  config
    .command('delete-context <name>')
    .description('Remove a context')
    .action(async (name: string) => {
      const p = path();
      const cfg = await readCliConfig(p);
      findContext(cfg, name, p);
      cfg.contexts = cfg.contexts.filter((c) => c.name !== name);
      if (cfg.currentContext === name) delete cfg.currentContext;
      await writeCliConfig(p, cfg);
      ctx.out(`context '${name}' deleted`);
    });

  config
    .command('view')
    .description('Print the config file, stored tokens masked')
    .action(async () => {
      const cfg = masked(await readCliConfig(path()));
      ctx.out(ctx.format() === 'json' ? JSON.stringify(cfg, null, 2) : stringify(cfg));
    });
}
