import { EsError, type Doc } from './elasticsearch-model.ts';

/** The query DSL subset of the protocol double (test/doubles/elasticsearch.ts): field values, comparison, and which documents a query matches. */

function getPath(doc: Doc, path: string): unknown {
  if (path in doc) return doc[path];
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function values(doc: Doc, field: string): unknown[] {
  const v = field === '_id' ? (doc as { __id?: string }).__id : getPath(doc, field);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function dateMath(v: string, now: number): number | undefined {
  const m = /^now(?:([+-])(\d+)(ms|s|m|h|d))?(?:\/\w)?$/.exec(v);
  if (!m) return undefined;
  if (!m[1]) return now;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[3] as 'ms'] ?? 1;
  return now + (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit;
}

/** Dates (ISO strings, `now-…`) and numbers compare as numbers; everything else as strings. */
export function comparable(v: unknown, now = Date.now()): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = String(v);
  const dm = dateMath(s, now);
  if (dm !== undefined) return dm;
  if (/^\d{4}-\d{2}-\d{2}T/.test(s)) {
    const ms = Date.parse(s);
    if (!Number.isNaN(ms)) return ms;
  }
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

export function cmp(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

export function matches(doc: Doc, query: Record<string, unknown> | undefined): boolean {
  if (!query || Object.keys(query).length === 0) return true;
  const [kind, body] = Object.entries(query)[0] as [string, Record<string, unknown>];
  const list = (x: unknown) => (x === undefined ? [] : Array.isArray(x) ? x : [x]) as Array<Record<string, unknown>>;
  switch (kind) {
    case 'match_all':
      return true;
    case 'match_none':
      return false;
    case 'bool': {
      const must = [...list(body.must), ...list(body.filter)];
      const should = list(body.should);
      if (!must.every((q) => matches(doc, q))) return false;
      if (list(body.must_not).some((q) => matches(doc, q))) return false;
      const min = body.minimum_should_match !== undefined ? Number(body.minimum_should_match) : must.length ? 0 : 1;
      return should.length === 0 || should.filter((q) => matches(doc, q)).length >= min;
    }
    case 'term':
    case 'match': {
      const [field, spec] = Object.entries(body)[0];
      const want =
        spec !== null && typeof spec === 'object' ? ((spec as { value?: unknown; query?: unknown }).value ?? (spec as { query?: unknown }).query) : spec;
      return values(doc, field).some((v) => cmp(comparable(v), comparable(want)) === 0);
    }
    case 'terms': {
      const [field, want] = Object.entries(body)[0] as [string, unknown[]];
      return values(doc, field).some((v) => want.some((w) => cmp(comparable(v), comparable(w)) === 0));
    }
    case 'exists':
      return values(doc, String(body.field)).length > 0;
    case 'range': {
      const [field, spec] = Object.entries(body)[0] as [string, Record<string, unknown>];
      return values(doc, field).some((raw) => {
        const v = comparable(raw);
        if (spec.gt !== undefined && !(cmp(v, comparable(spec.gt)) > 0)) return false;
        if (spec.gte !== undefined && !(cmp(v, comparable(spec.gte)) >= 0)) return false;
        if (spec.lt !== undefined && !(cmp(v, comparable(spec.lt)) < 0)) return false;
        if (spec.lte !== undefined && !(cmp(v, comparable(spec.lte)) <= 0)) return false;
        return true;
      });
    }
    case 'ids':
      return ((body.values as string[]) ?? []).includes((doc as { __id?: string }).__id ?? '');
    default:
      throw new EsError(400, 'parsing_exception', `unknown query [${kind}] (not implemented by the double)`);
  }
}
