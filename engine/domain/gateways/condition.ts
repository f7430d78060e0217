import { ValidationError } from '../../shared/errors.ts';
import { ConditionError, tokenize, type Token } from './condition-tokens.ts';

export { ConditionError } from './condition-tokens.ts';

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
 *
 * The parser is the only gate: everything it accepts is safe and small enough for the gateway
 * agent's HAProxy ACL compiler (adapters/gateway-agent/haproxy-acl.ts) — names are plain,
 * control characters are refused, the nesting depth and the number of alternatives are capped.
 */

export type Field =
  { kind: 'user-agent' } | { kind: 'host' } | { kind: 'path' } | { kind: 'method' } | { kind: 'header'; name: string } | { kind: 'cookie'; name: string };

export type CompareOp = 'equals' | 'contains' | 'starts-with' | 'ends-with';

export type Condition =
  | { type: 'and'; left: Condition; right: Condition }
  | { type: 'or'; left: Condition; right: Condition }
  | { type: 'not'; operand: Condition }
  | { type: 'exists'; source: 'cookie' | 'header'; name: string }
  | { type: 'compare'; field: Field; op: CompareOp; value: string };

const MAX_DEPTH = 32;
/**
 * Most alternatives (AND-terms of the OR-of-ANDs) a condition may expand to. HAProxy rule
 * conditions have no parentheses, so the gateway agent writes every condition as an OR of
 * ANDs; nesting multiplies the terms ((a or b) and (c or d) is 4), and the cap keeps the
 * rendered config small. It is a rule of the language, checked here, so a condition the API
 * accepts always compiles.
 */
export const MAX_CONDITION_ALTERNATIVES = 64;
/** Header and cookie names: RFC token characters that are also plain in HAProxy fetch arguments. */
const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

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
    if ((t.kind !== 'word' && t.kind !== 'string') || reserved)
      fail(t, `expected a value after '${op.text}'${reserved ? ` (quote it to use '${t.text}' as a value)` : ''}`);
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
      return fail(
        t,
        `unknown condition '${t.text}': expected one of user-agent, host, path, method, header <name>, cookie <name>, has, misses, not or '(' — e.g. ${EXAMPLES}`,
      );
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
  alternatives(ast, false, path);
  return ast;
}

/**
 * How many AND-terms `c` has in disjunctive normal form, negations pushed inwards first (De
 * Morgan: a negated `and` counts as an `or`). Throws, without a column (the whole condition
 * is at fault), as soon as a sub-condition exceeds MAX_CONDITION_ALTERNATIVES, so the count
 * never grows past 64 × 64.
 */
function alternatives(c: Condition, negate: boolean, path: string): number {
  if (c.type === 'not') return alternatives(c.operand, !negate, path);
  if (c.type !== 'and' && c.type !== 'or') return 1;
  const left = alternatives(c.left, negate, path);
  const right = alternatives(c.right, negate, path);
  const n = (c.type === 'and') !== negate ? left * right : left + right;
  if (n > MAX_CONDITION_ALTERNATIVES) {
    const message = `condition is too complex: it expands to more than ${MAX_CONDITION_ALTERNATIVES} alternatives in HAProxy; simplify the and/or nesting`;
    throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
  return n;
}
