import { allCommands, type CommandSpec } from './tree.ts';

/** The marker `veer __complete` answers when the shell should complete file names. */
export const FILES_MARKER = ':files:';

/** A word list quoted for a bash case arm or `compgen -W` (names are plain words; quoting anyway). */
const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

function caseFunction(name: string, doc: string, root: CommandSpec, words: (c: CommandSpec) => string[]): string {
  const arms = allCommands(root)
    .map((c) => ({ key: c.path.join(' '), list: words(c) }))
    .filter((a) => a.list.length > 0)
    .map((a) => `    ${q(a.key)}) echo ${q(a.list.join(' '))} ;;`);
  return [`# ${doc}`, `${name}() {`, '  case "$1" in', ...arms, '  esac', '}'].join('\n');
}

/**
 * The bash completion script. Subcommands and option names are written into it from the
 * command tree (no process per TAB for them); option values and arguments (kinds, object
 * names from the API, choices, files) are asked of `veer __complete`.
 */
export function bashScript(root: CommandSpec): string {
  const globals = root.options;
  const optionsOf = (c: CommandSpec) => [...new Set([...c.options, ...(c === root ? [] : globals)].flatMap((o) => o.flags))];
  const valueOptionsOf = (c: CommandSpec) => [...new Set([...c.options, ...(c === root ? [] : globals)].filter((o) => o.takesValue).flatMap((o) => o.flags))];
  return `# bash completion for veer. Load it with:  source <(veer completion bash)
# Generated from veer's commands (veer completion bash prints the current one).

${caseFunction('_veer_subcommands', 'the subcommands under a command path', root, (c) => c.subcommands.map((s) => s.name))}

${caseFunction('_veer_options', 'the options a command accepts (its own and the global ones)', root, optionsOf)}

${caseFunction('_veer_value_options', 'the options that take a value, whose value is not a command word', root, valueOptionsOf)}

_veer() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i=1 pending=0 out
  local -a rest=()
  # Which command the words so far reach; option values and arguments are skipped.
  while (( i < COMP_CWORD )); do
    w="\${COMP_WORDS[i]}"
    if [[ $w == -* ]]; then
      if [[ $w != *=* && " $(_veer_value_options "$path") " == *" $w "* ]]; then
        if (( i == COMP_CWORD - 1 )); then pending=1; fi
        (( i++ ))
      fi
    elif (( \${#rest[@]} == 0 )) && [[ " $(_veer_subcommands "$path") " == *" $w "* ]]; then
      path="\${path:+$path }$w"
    else
      rest+=("$w")
    fi
    (( i++ ))
  done
  COMPREPLY=()
  if (( ! pending )); then
    if [[ $cur == -* ]]; then
      COMPREPLY=( $(compgen -W "$(_veer_options "$path")" -- "$cur") )
      return 0
    fi
    local subs
    subs="$(_veer_subcommands "$path")"
    if [[ -n $subs && \${#rest[@]} -eq 0 ]]; then
      COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
      return 0
    fi
  fi
  # Arguments and option values: kinds, object names (from the API), choices or files.
  out="$("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)"
  if [[ $out == ${FILES_MARKER} ]]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=( $(compgen -f -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$out" -- "$cur") )
  fi
  return 0
}

complete -F _veer veer
`;
}
