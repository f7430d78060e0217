/**
 * `veer`: the command line for Veer, talking to its HTTP API only (cli/client.ts). Started by
 * cli/veer.mjs (the package's bin), which makes sure Node 24 runs it.
 */
import { Command, CommanderError, Option } from 'commander';
import { registerCommands } from './commands/index.ts';
import { createCommandContext } from './context.ts';
import { CliError, EXIT } from './errors.ts';
import pkg from '../package.json' with { type: 'json' };

export function createProgram(signal: AbortSignal, env: NodeJS.ProcessEnv): Command {
  const program = new Command('veer')
    .description('Operate Veer from a terminal: apply manifests kept in Git, follow runs and releases, steer traffic.')
    .version(pkg.version, '--version')
    .option('--url <url>', 'the Veer API (default: $VEER_URL, the current context, or http://127.0.0.1:8080)')
    .option('--token <token>', 'API bearer token (default: $VEER_TOKEN or the current context); never printed')
    .option('--context <name>', 'a context of ~/.config/veer/config.yaml instead of the current one')
    .addOption(new Option('-o, --output <format>', 'json or yaml instead of a table').choices(['json', 'yaml', 'table', 'wide']))
    .showHelpAfterError('(veer <command> --help shows the usage)')
    .configureHelp({ sortSubcommands: true })
    .exitOverride();
  registerCommands(program, createCommandContext(program, signal, env));
  // Subcommands inherit the override so that their usage errors exit 2, not commander's 1.
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs one command line and returns its exit code (tests call this; the bin exits with it). */
export async function runCli(argv: string[], signal: AbortSignal, env: NodeJS.ProcessEnv): Promise<number> {
  const program = createProgram(signal, env);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version are successes; every other parse error is a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    if (signal.aborted) return 130;
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failed;
  }
}

/** The process entry (cli/veer.mjs calls it): signals, broken pipes, the exit code. */
export async function main(): Promise<void> {
  const ac = new AbortController();
  let stops = 0;
  const stop = () => {
    // A second Ctrl-C does not wait for a clean stop.
    if (++stops > 1) process.exit(130);
    ac.abort(new Error('interrupted'));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // `veer get runs | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await runCli(process.argv.slice(2), ac.signal, process.env);
}
