import { FILES_MARKER } from './bash.ts';

/**
 * The zsh completion script. It asks `veer __complete` for every word (subcommands and options
 * come from the same command tree there), so it has nothing of its own that could drift.
 * Load it with `source <(veer completion zsh)`, or save it as `_veer` in a directory on $fpath.
 */
export function zshScript(): string {
  return `#compdef veer
# zsh completion for veer. Load it with:  source <(veer completion zsh)
# or save it as _veer in a directory on $fpath (before compinit runs).

_veer() {
  local -a candidates
  local out
  out="$("\${words[1]}" __complete -- "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)"
  if [[ $out == '${FILES_MARKER}' ]]; then
    _files
    return
  fi
  candidates=("\${(@f)out}")
  (( \${#candidates} )) && [[ -n $out ]] && compadd -- "\${candidates[@]}"
}

if [[ "\${funcstack[1]}" == _veer ]]; then
  _veer "$@"
else
  compdef _veer veer
fi
`;
}
