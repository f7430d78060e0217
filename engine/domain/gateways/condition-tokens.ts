import { ValidationError } from '../../shared/errors.ts';

/**
 * The lexer of the route condition language (condition.ts): words, quoted strings, `==`/`!=`,
 * parentheses, each with its 1-based column so every error can point at the fault. Control
 * characters are refused here, inside and outside quotes: nothing that could end a line of
 * HAProxy config gets past the lexer.
 */

export interface Token {
  kind: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'end';
  text: string;
  column: number;
}

/** A condition that does not parse: the message and the details name the column of the fault. */
export class ConditionError extends ValidationError {
  readonly column: number;
  constructor(column: number, message: string, path = 'condition') {
    super(`${path}: column ${column}: ${message}`, [{ path, message, column }]);
    this.column = column;
  }
}

/** The tokens of `src`, always ending with an `end` token at column `src.length + 1` (where "expected …" errors point). */
export function tokenize(src: string, path: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const column = i + 1;
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    if (ch < ' ' || ch === '\x7f') throw new ConditionError(column, 'control characters (such as line breaks) are not allowed', path);
    if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch === '(' ? 'lparen' : 'rparen', text: ch, column });
      i++;
      continue;
    }
    if ((ch === '=' || ch === '!') && src[i + 1] === '=') {
      tokens.push({ kind: 'op', text: ch + '=', column });
      i += 2;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new ConditionError(column, `unterminated string: add a closing ${ch}`, path);
        const c = src[j];
        if (c === '\\' && j + 1 < src.length) {
          value += src[j + 1];
          j += 2;
          continue;
        }
        if (c === ch) break;
        if (c < ' ' || c === '\x7f') throw new ConditionError(j + 1, 'control characters (such as line breaks) are not allowed', path);
        value += c;
        j++;
      }
      tokens.push({ kind: 'string', text: value, column });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < src.length) {
      const c = src[j];
      if (c === ' ' || c === '\t' || c === '(' || c === ')' || c === '"' || c === "'") break;
      if ((c === '=' || c === '!') && src[j + 1] === '=') break;
      if (c < ' ' || c === '\x7f') break;
      j++;
    }
    tokens.push({ kind: 'word', text: src.slice(i, j), column });
    i = j;
  }
  tokens.push({ kind: 'end', text: '', column: src.length + 1 });
  return tokens;
}
