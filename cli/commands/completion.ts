import { Argument, type Command } from 'commander';
import { bashScript, FILES_MARKER } from '../completion/bash.ts';
import { candidates } from '../completion/candidates.ts';
import { nameLookup } from '../completion/names.ts';
import { commandTree, findOption } from '../completion/tree.ts';
import { zshScript } from '../completion/zsh.ts';
import type { CommandContext } from '../context.ts';

/** The connection flags typed on the line being completed, so names come from that API. */
const CONNECTION_FLAGS = { '--url': 'url', '--token': 'token', '--context': 'context' } as const;

/**
 * `veer completion bash|zsh` prints a completion script built from this very program, and the
 * hidden `veer __complete <words…> <current>` answers it: one candidate per line.
 */
export function registerCompletion(program: Command, ctx: CommandContext): void {
  program
    .command('completion')
    .description('Print a shell completion script: source <(veer completion bash), or zsh')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      // Built when asked, so every command registered after this one is in it too.
      ctx.out(shell === 'bash' ? bashScript(commandTree(program)) : zshScript());
    });

  program
    .command('__complete', { hidden: true })
    .description('Completion candidates for the words typed so far (used by the completion scripts)')
    .argument('[words...]', 'the words after `veer`, the last one being completed (may be empty)')
    .allowUnknownOption()
    .action(async (words: string[]) => {
      const typed = words.slice(0, -1);
      const current = words.at(-1) ?? '';
      const root = commandTree(program);
      // `veer --context prod describe workflow <TAB>` lists prod's workflows.
      typed.forEach((w, i) => {
        const key = CONNECTION_FLAGS[w as keyof typeof CONNECTION_FLAGS];
        if (key && findOption(root, root, w) && typed[i + 1] !== undefined) program.setOptionValue(key, typed[i + 1]);
      });
      const result = await candidates(root, typed, current, nameLookup(ctx));
      ctx.out('files' in result ? FILES_MARKER : result.words.join('\n'));
    });
}
