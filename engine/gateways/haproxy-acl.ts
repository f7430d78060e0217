import type { Condition, Field } from '../domain/gateways/condition.ts';
import { ValidationError } from '../shared/errors.ts';

/**
 * Compiles a parsed condition into HAProxy ACL criteria and a rule condition.
 *
 * HAProxy rule conditions have no parentheses: they are an OR (`||`) of ANDs of possibly
 * negated ACLs. So the condition is brought to negation normal form and then to disjunctive
 * normal form; the number of AND-terms is capped so a pathological condition fails with a
 * message instead of producing a huge config.
 *
 * Injection safety: header/cookie names are restricted by the parser to [A-Za-z0-9_.-];
 * values (control characters already rejected) are always emitted single-quoted — HAProxy
 * does no escape or variable processing inside single quotes — with a `'` written as
 * `'"'"'` (adjacent quoted parts concatenate), and after `--` so a value can never be read
 * as an ACL flag.
 */

export const MAX_DNF_TERMS = 64;

/** One ACL criterion, e.g. `req.fhdr(X-Canary) -m str -- 'yes'`. */
export type AclCriterion = string;

export interface AclLiteral {
  criterion: AclCriterion;
  negated: boolean;
}

/** OR of ANDs. */
export type Dnf = AclLiteral[][];

export function quoteHaproxy(value: string): string {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error('control characters cannot be written into HAProxy config');
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

function sample(field: Field): { fetch: string; ci: boolean } {
  switch (field.kind) {
    // fhdr: the full header line; hdr would split User-Agent at its commas.
    case 'user-agent': return { fetch: 'req.fhdr(user-agent)', ci: true };
    case 'host': return { fetch: 'req.hdr(host),field(1,:)', ci: true };
    case 'path': return { fetch: 'path', ci: false };
    case 'method': return { fetch: 'method', ci: true };
    case 'header': return { fetch: `req.fhdr(${field.name})`, ci: false };
    case 'cookie': return { fetch: `req.cook(${field.name})`, ci: false };
  }
}

function criterionOf(c: Extract<Condition, { type: 'exists' | 'compare' }>): AclCriterion {
  if (c.type === 'exists') return c.source === 'cookie' ? `req.cook_cnt(${c.name}) gt 0` : `req.hdr_cnt(${c.name}) gt 0`;
  const { fetch, ci } = sample(c.field);
  // Vamp compatibility: `user-agent == Firefox` means "the User-Agent mentions Firefox".
  const op = c.field.kind === 'user-agent' && c.op === 'equals' ? 'contains' : c.op;
  const match = { equals: 'str', contains: 'sub', 'starts-with': 'beg', 'ends-with': 'end' }[op];
  return `${fetch}${ci ? ' -i' : ''} -m ${match} -- ${quoteHaproxy(c.value)}`;
}

type Nnf =
  | { type: 'and' | 'or'; left: Nnf; right: Nnf }
  | { type: 'lit'; lit: AclLiteral };

function toNnf(c: Condition, negate: boolean): Nnf {
  switch (c.type) {
    case 'not': return toNnf(c.operand, !negate);
    case 'and':
    case 'or': {
      const type = (c.type === 'and') !== negate ? 'and' : 'or';
      return { type, left: toNnf(c.left, negate), right: toNnf(c.right, negate) };
    }
    default: return { type: 'lit', lit: { criterion: criterionOf(c), negated: negate } };
  }
}

function toDnf(n: Nnf, path: string): Dnf {
  if (n.type === 'lit') return [[n.lit]];
  const l = toDnf(n.left, path);
  const r = toDnf(n.right, path);
  if (n.type === 'or') return check([...l, ...r], path);
  const out: Dnf = [];
  for (const a of l) for (const b of r) out.push([...a, ...b]);
  return check(out, path);
}

function check(d: Dnf, path: string): Dnf {
  if (d.length > MAX_DNF_TERMS) {
    const message = `condition is too complex: it expands to more than ${MAX_DNF_TERMS} alternatives in HAProxy; simplify the and/or nesting`;
    throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
  return d;
}

/** The condition as OR-of-ANDs of ACL criteria, with contradictory/duplicate literals left to HAProxy. */
export function compileCondition(c: Condition, path = 'condition'): Dnf {
  return toDnf(toNnf(c, false), path);
}

/**
 * Named ACL lines plus rule terms for a set of compiled conditions, sharing one ACL per
 * distinct criterion. `prefix` keeps names unique inside a frontend.
 */
export function aclNames(conditions: Dnf[], prefix: string): { acls: string[]; terms: string[][] } {
  const byCriterion = new Map<string, string>();
  const acls: string[] = [];
  const nameOf = (criterion: string) => {
    let name = byCriterion.get(criterion);
    if (!name) {
      name = `${prefix}${byCriterion.size}`;
      byCriterion.set(criterion, name);
      acls.push(`acl ${name} ${criterion}`);
    }
    return name;
  };
  // Per condition, its AND-terms ("a !b"); the caller joins them with ' || ' after adding its own ACLs to each.
  const terms = conditions.map((dnf) => dnf.map((term) => term.map((l) => `${l.negated ? '!' : ''}${nameOf(l.criterion)}`).join(' ')));
  return { acls, terms };
}
