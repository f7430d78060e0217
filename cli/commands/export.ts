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
import { CliError } from '../errors.ts';
import type { Obj } from '../manifests/api.ts';

/**
 * A local deployment's whole definition (GET /deployments/{name}/definition: env, healthCheck,
 * cwd and the current instances, which the plain GET leaves out), or why it cannot be exported.
 * The API serves it to admin tokens only, since env may hold credentials.
 */
async function readDefinition(ctx: CommandContext, name: string): Promise<{ definition: Obj } | { skipped: string }> {
  const client = await ctx.client();
  try {
    return { definition: await ctx.send(client.GET('/api/v1/deployments/{name}/definition', { params: { path: { name } }, signal: ctx.signal })) };
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    if (err.apiCode === 'FORBIDDEN') return { skipped: "reading a local deployment's definition (its env) needs an admin token" };
    if (err.apiCode === 'SCHEDULER.INVALID') return { skipped: 'only local deployments can be exported (the API runs another scheduler)' };
    if (err.apiCode === 'SCHEDULER.NOT_FOUND') return { skipped: 'it was removed while exporting' };
    // An API older than the definition route answers its generic 404.
    if (err.apiCode === 'NOT_FOUND') return { skipped: 'this API does not serve deployment definitions (upgrade Veer)' };
    throw err;
  }
}

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
      "\nSecret values are never exported: a secret (and a notifier's signing secret) becomes valueFrom: { env: NAME }\nwith a comment naming the variable to set before applying. Local deployments are exported whole, env included\n(as written: keep files whose env holds credentials out of Git), with their current instance count; reading\nthat needs an admin token, and without one each deployment is skipped with a line on stderr saying so.",
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
        const name = String(obj.name);
        let source = obj;
        if (kind === 'Deployment') {
          const d = await readDefinition(ctx, name);
          if ('skipped' in d) {
            ctx.err(`${ref(kind, name)} skipped: ${d.skipped}`);
            continue;
          }
          source = { name, ...d.definition };
        }
        exported.push(exportObject(kind, source, { scriptFiles: o.dir !== undefined }));
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
