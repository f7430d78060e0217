import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { applyOrder } from '../manifests/apply-plan.ts';
import { diffObject, formatDiff } from '../manifests/diff-format.ts';
import { prepare } from '../manifests/prepare.ts';
import { collect } from '../args.ts';
import { RESET_HELP } from './apply.ts';

export function registerDiff(program: Command, ctx: CommandContext): void {
  program
    .command('diff')
    .description('Show what `veer apply -f` would change: per object a header, scripts as a unified diff, other fields as - old / + new')
    .requiredOption('-f, --filename <file|dir>', 'a manifest file or a directory read recursively; repeatable', collect)
    .option('--reset', RESET_HELP)
    .addHelpText(
      'after',
      '\nExit codes (like kubectl diff): 0 nothing would change, 1 something would, 2 or more an error.\nSecret values are never shown, only that one would change.',
    )
    .action(async (o: { filename: string[]; reset?: boolean }) => {
      let planned;
      try {
        planned = await prepare(ctx, o.filename, { withCurrent: true, reset: o.reset });
      } catch (err) {
        // 1 means "differences" here; an invalid manifest must not read as one.
        if (err instanceof CliError && err.exitCode === EXIT.failed) throw new CliError(err.message.replace('; nothing was applied', ''), EXIT.usage);
        throw err;
      }
      const diffs = applyOrder(planned)
        .filter((p) => p.outcome !== 'unchanged')
        .map((p) => diffObject(p.manifest.kind, p.manifest.name, p.outcome, p.current, p.next));
      ctx.print(diffs, () => diffs.map(formatDiff).join('\n'));
      if (diffs.length) process.exitCode = EXIT.failed;
    });
}
