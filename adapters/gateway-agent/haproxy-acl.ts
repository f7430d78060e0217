import type { Condition, Field } from '../../engine/domain/gateways/condition.ts';

/**
 * Compiles a parsed condition into HAProxy ACL criteria and a rule condition.
 *
 * HAProxy rule conditions have no parentheses: they are an OR (`||`) of ANDs of possibly
 * negated ACLs. So the condition is brought to negation normal form and then to disjunctive
 * normal form. The number of AND-terms is a domain rule, checked by `parseCondition`
 * (engine/domain/gateways/condition.ts, MAX_CONDITION_ALTERNATIVES) with the same count as
 * here, so every condition the API accepts compiles, and a pathological one was already
 * refused with a message at PUT time instead of producing a huge config.
 *
 * Injection safety: header/cookie names are restricted by the parser to [A-Za-z0-9_.-];
 * values (control characters already rejected) are always emitted single-quoted — HAProxy
 * does no escape or variable processing inside single quotes — with a `'` written as
 * `'"'"'` (adjacent quoted parts concatenate), and after `--` so a value can never be read
 * as an ACL flag.
 */

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
    case 'user-agent':
      return { fetch: 'req.fhdr(user-agent)', ci: true };
    case 'host':
      return { fetch: 'req.hdr(host),field(1,:)', ci: true };
    case 'path':
      return { fetch: 'path', ci: false };
    case 'method':
      return { fetch: 'method', ci: true };
    case 'header':
      return { fetch: `req.fhdr(${field.name})`, ci: false };
    case 'cookie':
      return { fetch: `req.cook(${field.name})`, ci: false };
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

type Nnf = { type: 'and' | 'or'; left: Nnf; right: Nnf } | { type: 'lit'; lit: AclLiteral };

function toNnf(c: Condition, negate: boolean): Nnf {
  switch (c.type) {
    case 'not':
      return toNnf(c.operand, !negate);
    case 'and':
    case 'or': {
      const type = (c.type === 'and') !== negate ? 'and' : 'or';
      return { type, left: toNnf(c.left, negate), right: toNnf(c.right, negate) };
    }
    default:
      return { type: 'lit', lit: { criterion: criterionOf(c), negated: negate } };
  }
}

function toDnf(n: Nnf): Dnf {
  if (n.type === 'lit') return [[n.lit]];
  const l = toDnf(n.left);
  const r = toDnf(n.right);
  if (n.type === 'or') return [...l, ...r];
  const out: Dnf = [];
  for (const a of l) for (const b of r) out.push([...a, ...b]);
  return out;
}

/**
 * The condition as OR-of-ANDs of ACL criteria, with contradictory/duplicate literals left to
 * HAProxy. `c` comes from `parseCondition`, which bounds its size (MAX_CONDITION_ALTERNATIVES).
 */
export function compileCondition(c: Condition): Dnf {
  return toDnf(toNnf(c, false));
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
