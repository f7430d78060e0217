import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { exportObject, type ExportedObject } from '../manifests/export.ts';
import { KINDS, kindOf, ref, type Kind } from '../manifests/kinds.ts';
import { selectObjects } from '../manifests/prune.ts';
import { parseSelector } from '../resources.ts';
import { collect } from '../args.ts';

function kindFlag(word: string): Kind {
  const kind = kindOf(word);
  if (!kind) throw usageError(`--kind: '${word}' is not one of ${KINDS.map((k) => k.toLowerCase()).join(', ')}`);
  return kind;
}

export function registerExport(program: Command, ctx: CommandContext): void {
  program
    .command('export')
    .description('Write the stored objects as manifests that `veer apply -f` takes back unchanged: to stdout (multi-document YAML) or with -d into files')
    .option('-l, --selector <key=value>', 'only objects with these labels (app=shop,tier=web); repeatable', collect)
    .option('--kind <kind>', 'only this kind (workflow, gateway, deployment, notifier, secret); repeatable', collect)
    .option('-d, --dir <dir>', 'write <dir>/<kind>s/<name>.yaml, and each workflow script to <dir>/workflows/<name>.ts')
    .addHelpText(
      'after',
      "\nSecret values are never exported: a secret (and a notifier's signing secret) becomes valueFrom: { env: NAME }\nwith a comment naming the variable to set before applying. Local deployments are skipped: the API does not\nshow their whole definition (env, healthCheck, cwd).",
    )
    .action(async (o: { selector?: string[]; kind?: string[]; dir?: string }) => {
      const kinds: Kind[] = o.kind?.length ? o.kind.map(kindFlag) : [...KINDS];
      const selector = o.selector?.length ? parseSelector('-l/--selector', o.selector.join(',')) : [];
      const found = await selectObjects(
        ctx,
        selector,
        KINDS.filter((k) => kinds.includes(k)),
      );
      const exported: ExportedObject[] = [];
      for (const { kind, obj } of found) {
        const e = exportObject(kind, obj, { scriptFiles: o.dir !== undefined });
        if (e) exported.push(e);
        else ctx.err(`${ref(kind, String(obj.name))} skipped: the API does not show a local deployment's whole definition`);
      }
      if (o.dir === undefined) {
        ctx.out(exported.map((e) => e.yaml).join('---\n'));
        return;
      }
      const root = resolve(o.dir);
      for (const e of exported) {
        const files = [{ path: e.path, text: e.yaml }, ...(e.script ? [e.script] : [])];
        for (const f of files) {
          await mkdir(dirname(join(root, f.path)), { recursive: true });
          await writeFile(join(root, f.path), f.text);
        }
        ctx.out(`${ref(e.kind, e.name)} exported to ${join(o.dir, e.path)}`);
      }
    });
}
