import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { paintStatus } from '../output.ts';
import { deleteObject } from '../manifests/api.ts';
import { KIND_INFO, kindRank, ref } from '../manifests/kinds.ts';
import { loadAndValidate } from '../manifests/prepare.ts';
import { collect } from '../args.ts';

export function registerDelete(program: Command, ctx: CommandContext): void {
  program
    .command('delete')
    .description('Delete the objects named in manifest files (workflows first, secrets last: the reverse of apply)')
    .requiredOption('-f, --filename <file|dir>', 'a manifest file or a directory read recursively; repeatable', collect)
    .addHelpText('after', '\nAn object that does not exist is reported as "not found" and is not an error (--ignore-not-found is the default).')
    .action(async (o: { filename: string[] }) => {
      // Only kind and name matter: specs are not resolved (a secret's env need not be set to delete it).
      const manifests = await loadAndValidate(o.filename, process.cwd());
      const order = [...manifests].sort((a, b) => kindRank(b.kind) - kindRank(a.kind) || a.name.localeCompare(b.name));
      const results: Array<{ kind: string; name: string; outcome: 'deleted' | 'not found' }> = [];
      for (const m of order) {
        const outcome = (await deleteObject(ctx, m.kind, m.name)) ? 'deleted' : 'not found';
        results.push({ kind: KIND_INFO[m.kind].word, name: m.name, outcome });
        if (ctx.format() === 'table') ctx.out(`${ref(m.kind, m.name)} ${paintStatus(outcome)}`);
      }
      if (ctx.format() !== 'table') ctx.print(results, () => '');
    });
}
