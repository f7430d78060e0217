import { walk, type CommandSpec } from './tree.ts';

/** Where object names come from (the API, the contexts file); failures answer nothing. */
export interface NameLookup {
  /** The kinds `get`/`describe` take: each with its command-line words, plural first. */
  kinds: ReadonlyArray<{ aliases: string[]; named: boolean }>;
  names(kindWord: string): Promise<string[]>;
  contexts(): Promise<string[]>;
}

const KIND_COMMANDS = new Set(['get', 'describe']);
const KIND_ARGS = new Set(['kind', 'resource', 'type']);

/** What to offer for the word being completed: words, or "complete a file name". */
export type Candidates = { words: string[] } | { files: true };

/**
 * The candidates for `veer <words…> <current>`: subcommands and options from the command tree,
 * `.choices()` of options and arguments, kinds, and object names for arguments named after a
 * kind (`<workflow>`, `<gateway>`, or `<name>` after a `<kind>`).
 */
export async function candidates(root: CommandSpec, words: string[], current: string, lookup: NameLookup): Promise<Candidates> {
  const { cmd, args, pending } = walk(root, words);
  const keep = (list: string[]): Candidates => ({ words: [...new Set(list)].filter((w) => w.startsWith(current)) });
  if (pending) {
    if (pending.files) return { files: true };
    return keep(pending.choices ?? []);
  }
  if (current.startsWith('-')) return keep([...cmd.options, ...root.options].flatMap((o) => o.flags));
  if (args.length === 0 && cmd.subcommands.length > 0) return keep(cmd.subcommands.map((c) => c.name));
  // `get` and `describe` take a kind first (whatever their author named the argument).
  const kindAt = KIND_COMMANDS.has(cmd.name) ? 0 : cmd.args.findIndex((a) => KIND_ARGS.has(a.name));
  if (kindAt >= 0 && args.length === kindAt) {
    // `describe workflow x` reads better in the singular; listings in the plural.
    const singular = cmd.name === 'describe';
    return keep(lookup.kinds.filter((k) => !singular || k.named).map((k) => (singular ? (k.aliases[1] ?? k.aliases[0]!) : k.aliases[0]!)));
  }
  if (kindAt >= 0 && args.length === kindAt + 1) return keep(await lookup.names(args[kindAt]!));
  const arg = cmd.args[Math.min(args.length, cmd.args.length - 1)];
  if (!arg || (args.length >= cmd.args.length && !arg.variadic)) return keep([]);
  if (arg.choices) return keep(arg.choices);
  if (cmd.path[0] === 'config' && arg.name === 'name') return keep(await lookup.contexts());
  if (lookup.kinds.some((k) => k.aliases.includes(arg.name))) return keep(await lookup.names(arg.name));
  if (/file|dir|path|script/i.test(arg.name)) return { files: true };
  return keep([]);
}
