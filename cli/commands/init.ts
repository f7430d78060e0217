import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT, usageError } from '../errors.ts';
import { manifest, readme, script, tsconfig, TYPES_FILE } from '../init/templates.ts';

/**
 * The published script contract. Read as text, not imported: the CLI does not load workflows/
 * modules (layer rule), it only copies the file into the new project.
 */
const CONTRACT = new URL('../../workflows/types.ts', import.meta.url);

/** Workflow names the API accepts (DNS-label-like); checked here so the manifest applies. */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

interface InitOptions {
  name?: string;
  force?: boolean;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** `veer init <dir>`: a workflow project that `veer check` and `veer apply -f` accept as it is. */
export function registerInit(program: Command, ctx: CommandContext): void {
  program
    .command('init <dir>')
    .description('Scaffold a workflow project: manifest, typed script, script-contract types, tsconfig')
    .option('--name <workflow>', "the workflow's name (default: the directory's name)")
    .option('--force', 'overwrite files that already exist')
    .action(async (dir: string, o: InitOptions) => {
      const name = o.name ?? basename(resolve(dir)).toLowerCase();
      if (!NAME.test(name))
        throw usageError(`--name: '${name}' is not a workflow name (lower-case letters, digits and '-', at most 63)${o.name ? '' : '; pass --name'}`);
      const files: Array<[string, string]> = [
        ['veer.yaml', manifest(name)],
        [`${name}.ts`, script()],
        [TYPES_FILE, await readFile(CONTRACT, 'utf8')],
        ['tsconfig.json', tsconfig()],
        ['README.md', readme(name)],
      ];
      if (!o.force) {
        const taken = [];
        for (const [file] of files) if (await exists(join(dir, file))) taken.push(join(dir, file));
        if (taken.length) throw new CliError(`not overwriting ${taken.join(', ')} (--force overwrites)`, EXIT.conflict);
      }
      await mkdir(dir, { recursive: true });
      for (const [file, text] of files) await writeFile(join(dir, file), text);
      ctx.out(
        [
          `created workflow project '${name}' in ${dir}:`,
          ...files.map(([f]) => `  ${join(dir, f)}`),
          `next: veer check ${join(dir, 'veer.yaml')} && veer apply -f ${dir}`,
        ].join('\n'),
      );
    });
}
