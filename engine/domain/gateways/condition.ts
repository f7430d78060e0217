import { ValidationError } from '../../shared/errors.ts';

/**
 * The route condition language: small, readable, and safe to compile into HAProxy ACLs.
 *
 *   user-agent == Firefox          (User-Agent contains "Firefox", any case — Vamp's meaning)
 *   host == shop.example.com       (Host without port, any case)
 *   path starts with /api          (also: ==, !=, contains, ends with)
 *   method == POST
 *   header X-Canary contains yes   (header values and cookies compare case-sensitively)
 *   cookie group == beta
 *   has cookie beta / misses cookie beta / has header X-Debug / misses header X-Debug
 *   … combined with and, or, not and parentheses; `not` binds tightest, then `and`, then `or`.
 *
 * Values are bare words or quoted ("a b" or 'a b', with \" \' \\ escapes).
 */

export type Field =
  | { kind: 'user-agent' }
  | { kind: 'host' }
  | { kind: 'path' }
  | { kind: 'method' }
  | { kind: 'header'; name: string }
  | { kind: 'cookie'; name: string };

export type CompareOp = 'equals' | 'contains' | 'starts-with' | 'ends-with';

export type Condition =
  | { type: 'and'; left: Condition; right: Condition }
  | { type: 'or'; left: Condition; right: Condition }
  | { type: 'not'; operand: Condition }
  | { type: 'exists'; source: 'cookie' | 'header'; name: string }
  | { type: 'compare'; field: Field; op: CompareOp; value: string };

interface Token {
  kind: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'end';
  text: string;
  column: number;
}

const MAX_DEPTH = 32;
/** Header and cookie names: RFC token characters that are also plain in HAProxy fetch arguments. */
const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export class ConditionError extends ValidationError {
  readonly column: number;
  constructor(column: number, message: string, path = 'condition') {
    super(`${path}: column ${column}: ${message}`, [{ path, message, column }]);
    this.column = column;
  }
}

function tokenize(src: string, path: string): Token[] {
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

const EXAMPLES = '`header X-Canary == yes`, `has cookie beta`, `user-agent == Firefox`, `path starts with /api`';

/** Parses a condition; errors name the column of the fault. `path` prefixes messages (e.g. `routes.v2.condition`). */
export function parseCondition(src: string, path = 'condition'): Condition {
  const tokens = tokenize(src, path);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (t: Token, w: string) => t.kind === 'word' && t.text.toLowerCase() === w;
  const fail = (t: Token, message: string): never => {
    throw new ConditionError(t.column, message, path);
  };
  const describe = (t: Token) => (t.kind === 'end' ? 'the end of the condition' : `'${t.text}'`);

  const parseOr = (depth: number): Condition => {
    let left = parseAnd(depth);
    while (isWord(peek(), 'or')) {
      pos++;
      left = { type: 'or', left, right: parseAnd(depth) };
    }
    return left;
  };
  const parseAnd = (depth: number): Condition => {
    let left = parseUnary(depth);
    while (isWord(peek(), 'and')) {
      pos++;
      left = { type: 'and', left, right: parseUnary(depth) };
    }
    return left;
  };
  const parseUnary = (depth: number): Condition => {
    const t = peek();
    if (depth > MAX_DEPTH) fail(t, `nested too deeply (more than ${MAX_DEPTH} levels)`);
    if (isWord(t, 'not')) {
      pos++;
      return { type: 'not', operand: parseUnary(depth + 1) };
    }
    if (t.kind === 'lparen') {
      pos++;
      const inner = parseOr(depth + 1);
      if (peek().kind !== 'rparen') fail(peek(), `expected ')' to close the '(' at column ${t.column}, got ${describe(peek())}`);
      pos++;
      return inner;
    }
    return parsePredicate();
  };
  const parseName = (after: Token, what: string): string => {
    const t = peek();
    if (t.kind !== 'word' && t.kind !== 'string') fail(t, `expected a ${what} name after '${after.text}', got ${describe(t)}`);
    if (!NAME.test(t.text)) fail(t, `'${t.text}' is not a valid ${what} name (letters, digits, '_', '.', '-')`);
    pos++;
    return t.text;
  };
  const parseOp = (after: Token): { op: CompareOp; negate: boolean; token: Token } => {
    const t = peek();
    if (t.kind === 'op') {
      pos++;
      return { op: 'equals', negate: t.text === '!=', token: t };
    }
    if (isWord(t, 'contains')) {
      pos++;
      return { op: 'contains', negate: false, token: t };
    }
    if (isWord(t, 'starts') || isWord(t, 'ends')) {
      pos++;
      if (!isWord(peek(), 'with')) fail(peek(), `expected 'with' after '${t.text}', got ${describe(peek())}`);
      pos++;
      return { op: isWord(t, 'starts') ? 'starts-with' : 'ends-with', negate: false, token: { ...t, text: `${t.text} with` } };
    }
    return fail(t, `expected '==', '!=', 'contains', 'starts with' or 'ends with' after '${after.text}', got ${describe(t)}`);
  };
  const parseValue = (op: Token): string => {
    const t = peek();
    const reserved = t.kind === 'word' && ['and', 'or', 'not'].includes(t.text.toLowerCase());
    if ((t.kind !== 'word' && t.kind !== 'string') || reserved) fail(t, `expected a value after '${op.text}'${reserved ? ` (quote it to use '${t.text}' as a value)` : ''}`);
    if (t.text === '') fail(t, `expected a non-empty value after '${op.text}'`);
    pos++;
    return t.text;
  };
  const parsePredicate = (): Condition => {
    const t = peek();
    if (t.kind !== 'word') fail(t, `expected a condition such as ${EXAMPLES}, got ${describe(t)}`);
    const word = t.text.toLowerCase();
    if (word === 'has' || word === 'misses') {
      pos++;
      const what = peek();
      if (!isWord(what, 'cookie') && !isWord(what, 'header')) fail(what, `expected 'cookie' or 'header' after '${t.text}', got ${describe(what)}`);
      pos++;
      const source = what.text.toLowerCase() as 'cookie' | 'header';
      const exists: Condition = { type: 'exists', source, name: parseName(what, source) };
      return word === 'has' ? exists : { type: 'not', operand: exists };
    }
    let field: Field;
    if (word === 'user-agent' || word === 'host' || word === 'path' || word === 'method') {
      pos++;
      field = { kind: word };
    } else if (word === 'header' || word === 'cookie') {
      pos++;
      field = { kind: word, name: parseName(t, word) };
    } else {
      return fail(t, `unknown condition '${t.text}': expected one of user-agent, host, path, method, header <name>, cookie <name>, has, misses, not or '(' — e.g. ${EXAMPLES}`);
    }
    const { op, negate, token } = parseOp(tokens[pos - 1]);
    const compare: Condition = { type: 'compare', field, op, value: parseValue(token) };
    return negate ? { type: 'not', operand: compare } : compare;
  };

  if (peek().kind === 'end') fail(peek(), `the condition is empty; write e.g. ${EXAMPLES}`);
  const ast = parseOr(0);
  const rest = peek();
  if (rest.kind !== 'end') {
    fail(rest, rest.kind === 'rparen' ? `unexpected ')' without a matching '('` : `expected 'and', 'or' or the end of the condition, got ${describe(rest)}`);
  }
  return ast;
}
