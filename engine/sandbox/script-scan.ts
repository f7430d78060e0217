/**
 * A single-pass lexical scan of an uploaded script (TypeScript or the JavaScript it strips to),
 * for the checks compile makes on user text. It replaces regular expressions there: a
 * backtracking regex over a 512 KiB upload once blocked the API and engine for ~10 s, while
 * this visits each character a bounded number of times (every skip is a forward `indexOf` or
 * loop from the current index), so its cost is linear in the source whatever the text.
 *
 * It knows just enough JavaScript to tell code from strings, comments, template text and
 * regular-expression literals. A `/` is read as a regex where an expression may start (after
 * an operator, an opening bracket or a keyword such as `return`); a wrong guess can only
 * misread the rest of that one line, since regex literals cannot span lines.
 */

/** One significant token, as the scan reports it to a visitor. */
export type ScanToken =
  | { kind: 'open'; at: number; char: '(' | '[' | '{' | '${' }
  | { kind: 'close'; at: number }
  | { kind: 'word'; at: number; text: string }
  | { kind: 'string'; at: number; value: string }
  | { kind: 'punct'; at: number; char: string };

/** Return `true` to stop the scan. */
type Visitor = (token: ScanToken, depth: number) => boolean | void;

/** After these words an expression starts, so a `/` begins a regex rather than a division. */
const EXPRESSION_KEYWORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

const TEMPLATE = 0x60; // `

function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x24 || c === 0x5f || c === 0x5c || c >= 0x80;
}

function isWordStart(c: number): boolean {
  return isWordChar(c) && !(c >= 0x30 && c <= 0x39);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff || isLineTerminator(c);
}

/**
 * Scans `text`, calling `visit` for every significant token with the bracket depth before it
 * (`(`, `[`, `{` and a template's `${` count). Stops early when `visit` returns true.
 */
export function scanScript(text: string, visit: Visitor): void {
  const n = text.length;
  // Open brackets, innermost last; TEMPLATE marks a `${` whose `}` resumes template text.
  const stack: number[] = [];
  let regexAllowed = true;
  let i = 0;
  if (text.startsWith('#!')) i = skipLine(text, 2);

  /** Template text from `i` (just after a backtick or a `${…}`) to its end or next `${`. */
  const templateText = (): boolean => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === TEMPLATE) {
        i++;
        regexAllowed = false;
        return false;
      } else if (c === 0x24 && text.charCodeAt(i + 1) === 0x7b) {
        const stop = visit({ kind: 'open', at: i, char: '${' }, stack.length) === true;
        stack.push(TEMPLATE);
        i += 2;
        regexAllowed = true;
        return stop;
      } else i++;
    }
    return false;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === 0x2f /* / */) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x2f) {
        i = skipLine(text, i + 2);
        continue;
      }
      if (next === 0x2a) {
        const end = text.indexOf('*/', i + 2);
        i = end < 0 ? n : end + 2;
        continue;
      }
      if (regexAllowed) {
        i = skipRegex(text, i + 1);
        regexAllowed = false;
        continue;
      }
      i++;
      if (visit({ kind: 'punct', at, char: '/' }, stack.length) === true) return;
      regexAllowed = true;
      continue;
    }
    if (c === 0x27 || c === 0x22 /* ' " */) {
      const end = skipString(text, i + 1, c);
      i = end;
      regexAllowed = false;
      const closed = text.charCodeAt(end - 1) === c && end - 1 > at;
      if (visit({ kind: 'string', at, value: text.slice(at + 1, closed ? end - 1 : end) }, stack.length) === true) return;
      continue;
    }
    if (c === TEMPLATE) {
      i++;
      if (templateText()) return;
      continue;
    }
    if (c === 0x28 || c === 0x5b || c === 0x7b /* ( [ { */) {
      if (visit({ kind: 'open', at, char: text[i] as '(' | '[' | '{' }, stack.length) === true) return;
      stack.push(c);
      i++;
      regexAllowed = true;
      continue;
    }
    if (c === 0x29 || c === 0x5d || c === 0x7d /* ) ] } */) {
      const top = stack.length ? stack[stack.length - 1] : -1;
      i++;
      // A stray `)` or `]` inside `${…}` is the parser's to report; it must not end the template.
      if (top === TEMPLATE && c !== 0x7d) {
        regexAllowed = false;
        continue;
      }
      if (stack.length) stack.pop();
      if (visit({ kind: 'close', at }, stack.length) === true) return;
      if (top === TEMPLATE) {
        if (templateText()) return;
        continue;
      }
      regexAllowed = false;
      continue;
    }
    if (isWordStart(c) || c === 0x23 /* # private name */) {
      i++;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
      const word = text.slice(at, i);
      regexAllowed = EXPRESSION_KEYWORDS.has(word);
      if (visit({ kind: 'word', at, text: word }, stack.length) === true) return;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isWordChar(d) || d === 0x2e) i++;
        else if ((d === 0x2b || d === 0x2d) && (text.charCodeAt(i - 1) | 0x20) === 0x65 /* e */) i++;
        else break;
      }
      regexAllowed = false;
      continue;
    }
    i++;
    if (visit({ kind: 'punct', at, char: text[at] }, stack.length) === true) return;
    regexAllowed = true;
  }
}

function skipLine(text: string, from: number): number {
  let i = from;
  while (i < text.length && !isLineTerminator(text.charCodeAt(i))) i++;
  return i;
}

/** Past the closing quote (or the end of the line, for an unterminated string). */
function skipString(text: string, from: number, quote: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === quote) return i + 1;
    if (c === 0x5c) i += 2;
    else if (isLineTerminator(c)) return i;
    else i++;
  }
  return text.length;
}

/** Past a regex literal's flags; `[…]` classes may hold `/`; a line end ends a misread one. */
function skipRegex(text: string, from: number): number {
  let i = from;
  let inClass = false;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isLineTerminator(c)) return i;
    if (c === 0x5c) {
      i += 2;
      continue;
    }
    if (c === 0x2f && !inClass) {
      i++;
      while (i < text.length && isWordChar(text.charCodeAt(i))) i++;
      return i;
    }
    if (c === 0x5b) inClass = true;
    else if (c === 0x5d) inClass = false;
    i++;
  }
  return i;
}

/** 1-based line and column of `index`, counting lines as compile's messages do (\r\n, \r, \n). */
export function positionOf(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
