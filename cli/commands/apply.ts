import type { Command } from 'commander';
import { collect } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { paint, paintStatus } from '../output.ts';
import { deleteObject } from '../manifests/api.ts';
import { applyOrder, applyPlanned, type AppliedObject } from '../manifests/apply-plan.ts';
import { KIND_INFO, ref } from '../manifests/kinds.ts';
import { prepare } from '../manifests/prepare.ts';
import { prunable } from '../manifests/prune.ts';
import { parseSelector } from '../resources.ts';

export const RESET_HELP =
  "also set gateway weights and deployment instance counts to the manifest's (by default an existing object keeps the ones releases, autoscalers, veer weights and veer scale left)";

interface ApplyOptions {
  filename: string[];
  reset?: boolean;
  prune?: boolean;
  selector?: string[];
  dryRun?: boolean;
}

export function registerApply(program: Command, ctx: CommandContext): void {
  program
    .command('apply')
    .description(
      'Create or update the objects in manifest files: every document is checked first (locally and by the API) and nothing is applied if one is invalid; then prints created, updated or unchanged per object',
    )
    .requiredOption('-f, --filename <file|dir>', 'a manifest file (.yaml, .yml, .json) or a directory read recursively; repeatable', collect)
    .option('--prune', 'also delete objects with the -l labels that were applied by veer and are no longer in the files')
    .option('-l, --selector <key=value>', 'labels selecting what --prune may delete (app=shop,tier=web); repeatable', collect)
    .option('--dry-run', 'print what would happen; change nothing')
    .option('--reset', RESET_HELP)
    .addHelpText(
      'after',
      '\nObjects are applied in dependency order (secrets, notifiers, deployments, gateways, workflows), each recording\nits manifest in the annotation veer.io/source. Exit 0 when all was applied, 1 when the manifests are invalid\n(nothing applied) or the API refused one (the ones before it stay applied).',
    )
    .action(async (o: ApplyOptions) => {
      if (o.prune && !o.selector?.length) throw usageError('--prune needs -l/--selector (e.g. --prune -l app=shop): without one it could delete everything');
      const selector = o.selector?.length ? parseSelector('-l/--selector', o.selector.join(',')) : undefined;
      const planned = await prepare(ctx, o.filename, { reset: o.reset });
      const human = ctx.format() === 'table';
      const suffix = o.dryRun ? ' (dry run)' : '';
      const line = (text: string) => human && ctx.out(`${text}${suffix}`);
      let results: AppliedObject[];
      if (o.dryRun) {
        results = applyOrder(planned).map((p) => ({ kind: KIND_INFO[p.manifest.kind].word, name: p.manifest.name, outcome: p.outcome }));
        for (const r of results) line(`${r.kind}/${r.name} ${paintStatus(r.outcome)}`);
      } else {
        results = await applyPlanned(ctx, planned, (_o, text) => line(text));
      }
      if (o.prune && selector) {
        const keep = new Set(planned.map((p) => ref(p.manifest.kind, p.manifest.name)));
        for (const { kind, name } of await prunable(ctx, selector, keep)) {
          if (!o.dryRun) await deleteObject(ctx, kind, name);
          results.push({ kind: KIND_INFO[kind].word, name, outcome: 'pruned' });
          line(`${ref(kind, name)} ${paint('red', 'pruned')}`);
        }
      }
      if (!human) ctx.print(results, () => '');
    });
}
