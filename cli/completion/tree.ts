import type { Command, Option } from 'commander';

/** One option as completion sees it: its spellings, and what its value is (if it takes one). */
export interface OptionSpec {
  flags: string[];
  takesValue: boolean;
  /** commander's `.choices()`: the values to offer. */
  choices?: string[];
  /** A path is expected (`-f`, `<file>`, `<dir>`): the shell completes files. */
  files: boolean;
}

export interface ArgumentSpec {
  name: string;
  variadic: boolean;
  choices?: string[];
}

/** A command and everything under it, read from the commander program so it cannot drift. */
export interface CommandSpec {
  name: string;
  /** The words that lead to it from the program (`['config', 'use-context']`). */
  path: string[];
  subcommands: CommandSpec[];
  options: OptionSpec[];
  args: ArgumentSpec[];
}

const FILE_VALUE = /<(file|dir|path|files|paths)[.>]/i;

function optionSpec(o: Option): OptionSpec {
  const flags = [o.short, o.long].filter((f): f is string => typeof f === 'string');
  const takesValue = o.required || o.optional;
  return {
    flags,
    takesValue,
    ...(o.argChoices ? { choices: o.argChoices } : {}),
    files: takesValue && (o.short === '-f' || o.long === '--file' || o.long === '--filename' || FILE_VALUE.test(o.flags)),
  };
}

/** The visible commands (hidden ones such as `__complete` stay out), options and arguments. */
export function commandTree(cmd: Command, path: string[] = []): CommandSpec {
  const help = cmd.createHelp();
  return {
    name: cmd.name(),
    path,
    subcommands: help
      .visibleCommands(cmd)
      .filter((c) => c.name() !== 'help')
      .map((c) => commandTree(c, [...path, c.name()])),
    options: help.visibleOptions(cmd).map(optionSpec),
    args: cmd.registeredArguments.map((a) => ({ name: a.name(), variadic: a.variadic, ...(a.argChoices ? { choices: a.argChoices } : {}) })),
  };
}

/** Every command of the tree, the program first. */
export function allCommands(root: CommandSpec): CommandSpec[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

/** The option a word spells, looked up on the command and the program (global options). */
export function findOption(root: CommandSpec, cmd: CommandSpec, word: string): OptionSpec | undefined {
  return [...cmd.options, ...root.options].find((o) => o.flags.includes(word));
}

/**
 * Reads the words typed so far (without `veer` and without the word being completed): the
 * command they reach, the positional arguments given to it, and the option awaiting a value.
 */
export function walk(root: CommandSpec, words: string[]): { cmd: CommandSpec; args: string[]; pending?: OptionSpec } {
  let cmd = root;
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      if (w.includes('=')) continue;
      const opt = findOption(root, cmd, w);
      if (opt?.takesValue) {
        if (i === words.length - 1) return { cmd, args, pending: opt };
        i++;
      }
      continue;
    }
    const sub = args.length === 0 ? cmd.subcommands.find((c) => c.name === w) : undefined;
    if (sub) cmd = sub;
    else args.push(w);
  }
  return { cmd, args };
}
