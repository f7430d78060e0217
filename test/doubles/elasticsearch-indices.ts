import { EsError, wildcard, type Doc, type Index, type Template } from './elasticsearch-model.ts';

/*
 * Indices, documents and templates of the protocol double (test/doubles/elasticsearch.ts).
 *
 * Refresh: a write is searchable only after a refresh of its index: periodic per the
 * index's `refresh_interval` setting (from the request or the matching template; else
 * the double's default, ES's being 1s; `-1` = only on demand), `_refresh`, or
 * `?refresh=true|wait_for`.
 * https://www.elastic.co/docs/reference/elasticsearch/index-settings/index-modules#index-refresh-interval-setting
 *
 * Composable templates: a PUT whose patterns overlap an existing template of the same
 * priority is a 400 `illegal_argument_exception` (MetadataIndexTemplateService);
 * index creation applies only the highest-priority match.
 * https://www.elastic.co/docs/manage-data/data-store/templates
 */

/** ES time values (`5s`, `500ms`, `1m`, `-1`) in ms; undefined when absent. */
function timeValueMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const m = /^(-?\d+)(ms|s|m|h)?$/.exec(String(v).trim());
  if (!m) throw new EsError(400, 'illegal_argument_exception', `failed to parse setting [index.refresh_interval] with value [${String(v)}] as a time value`);
  const n = Number(m[1]);
  return n < 0 ? -1 : n * { ms: 1, s: 1000, m: 60_000, h: 3600_000 }[(m[2] ?? 'ms') as 'ms'];
}

/** Whether two wildcard patterns can match a common name (ES intersects their automatons). */
function patternsOverlap(a: string, b: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (a[i] === '*') r = go(i + 1, j) || (j < b.length && (b[j] === '*' ? go(i, j + 1) || go(i + 1, j) : go(i, j + 1)));
    else if (b[j] === '*') r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else r = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** Leaf paths of a mapping's `properties`. */
function mappedPaths(properties: Record<string, unknown> | undefined, prefix = ''): string[] {
  return Object.entries(properties ?? {}).flatMap(([k, v]) => {
    const sub = (v as { properties?: Record<string, unknown> }).properties;
    return sub ? mappedPaths(sub, `${prefix}${k}.`) : [`${prefix}${k}`];
  });
}

/** Leaf paths of a document, as dynamic mapping would add them. */
function docPaths(doc: unknown, prefix = ''): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return prefix ? [prefix.slice(0, -1)] : [];
  return Object.entries(doc as Doc).flatMap(([k, v]) => docPaths(v, `${prefix}${k}.`));
}

export interface IndexStoreOptions {
  /** Default periodic refresh (ms) of indices without their own `refresh_interval`; -1 = only on demand. */
  refreshIntervalMs: number;
  /** Whether a write to `index` is held back from refreshes now (elasticsearch-faults.ts). */
  isHeld(index: string): boolean;
}

export type IndexStore = ReturnType<typeof createIndexStore>;

/** The double's cluster state: `indices` (shared with the fault hooks) and `templates`, and what the endpoints do to them. */
export function createIndexStore(indices: Map<string, Index>, options: IndexStoreOptions) {
  const templates = new Map<string, Template>();
  let seq = 0;
  let defaultInterval = options.refreshIntervalMs;

  const refreshIndex = (idx: Index) => {
    for (const d of idx.docs.values()) if (!d.held) d.visible = true;
  };
  const refresh = (pattern = '*') => {
    const re = wildcard(pattern);
    for (const idx of indices.values()) if (re.test(idx.name)) refreshIndex(idx);
  };
  /** Each index refreshes on its own schedule, like each shard does on a real node. */
  const schedule = (idx: Index) => {
    clearInterval(idx.timer);
    const ms = idx.refreshMs ?? defaultInterval;
    idx.timer = ms > 0 ? setInterval(() => refreshIndex(idx), ms) : undefined;
    idx.timer?.unref();
  };
  const dropIndex = (idx: Index) => {
    clearInterval(idx.timer);
    indices.delete(idx.name);
  };

  const resolve = (expr: string, params: URLSearchParams): Index[] => {
    const out: Index[] = [];
    for (const part of expr.split(',')) {
      if (part.includes('*') || part === '_all') {
        const re = wildcard(part === '_all' ? '*' : part);
        out.push(...[...indices.values()].filter((i) => re.test(i.name)));
      } else if (indices.has(part)) out.push(indices.get(part)!);
      else if (params.get('ignore_unavailable') !== 'true') throw new EsError(404, 'index_not_found_exception', `no such index [${part}]`);
    }
    return out;
  };

  const putTemplate = (name: string, t: Template) => {
    const priority = t.priority ?? 0;
    // MetadataIndexTemplateService: overlapping patterns at the same priority are refused, since index creation could not pick one.
    const clashes = [...templates].filter(
      ([other, o]) => other !== name && (o.priority ?? 0) === priority && o.index_patterns.some((op) => t.index_patterns.some((p) => patternsOverlap(p, op))),
    );
    if (clashes.length) {
      throw new EsError(
        400,
        'illegal_argument_exception',
        `index template [${name}] has index patterns [${t.index_patterns.join(', ')}] matching patterns from existing templates [${clashes.map(([n]) => n).join(',')}] with patterns (${clashes.map(([n, o]) => `${n} => [${o.index_patterns.join(', ')}]`).join(',')}) that have the same priority [${priority}], multiple index templates may not match during index creation, please use a different priority`,
      );
    }
    templates.set(name, t);
  };

  const createIndex = (name: string, body: { settings?: Record<string, unknown>; mappings?: Index['mappings'] } = {}): Index => {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new EsError(400, 'invalid_index_name_exception', `Invalid index name [${name}], must be lowercase`);
    const tpl = [...templates.values()]
      .filter((t) => t.index_patterns.some((p) => wildcard(p).test(name)))
      .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))[0];
    const settings = (body.settings ?? tpl?.template?.settings ?? {}) as Record<string, unknown>;
    const mappings = (body.mappings ?? tpl?.template?.mappings ?? {}) as Index['mappings'];
    const own = settings.refresh_interval ?? (settings.index as { refresh_interval?: unknown } | undefined)?.refresh_interval;
    const idx: Index = { name, docs: new Map(), mappings, settings, fields: new Set(mappedPaths(mappings.properties)), refreshMs: timeValueMs(own) };
    indices.set(name, idx);
    schedule(idx);
    return idx;
  };

  const write = (index: string, id: string | undefined, source: Doc, create: boolean) => {
    const idx = indices.get(index) ?? createIndex(index);
    const docId = id ?? `d${++seq}${Math.random().toString(36).slice(2, 8)}`;
    const existing = idx.docs.get(docId);
    if (existing && create) throw new EsError(409, 'version_conflict_engine_exception', `[${docId}]: version conflict, document already exists`);
    const dynamic = String(idx.mappings.dynamic ?? 'true');
    if (dynamic === 'true' || dynamic === 'runtime') for (const f of docPaths(source)) idx.fields.add(f);
    const held = options.isHeld(index);
    idx.docs.set(docId, { id: docId, source, visible: false, held, seq: ++seq });
    return {
      _index: index,
      _id: docId,
      _version: 1,
      result: existing ? 'updated' : 'created',
      _shards: { total: 1, successful: 1, failed: 0 },
      _seq_no: seq,
      _primary_term: 1,
    };
  };

  return {
    indices,
    templates,
    refresh,
    refreshIndex,
    dropIndex,
    resolve,
    putTemplate,
    createIndex,
    write,
    /** Adds `properties` to the mappings of the indices `expr` names. */
    putMapping(expr: string, params: URLSearchParams, properties: Record<string, unknown> | undefined) {
      for (const i of resolve(expr, params)) {
        i.mappings = { ...i.mappings, properties: { ...i.mappings.properties, ...properties } };
        for (const f of mappedPaths(properties)) i.fields.add(f);
      }
    },
    setRefreshInterval(ms: number) {
      defaultInterval = ms;
      for (const idx of indices.values()) if (idx.refreshMs === undefined) schedule(idx);
    },
    count(pattern = '*') {
      const re = wildcard(pattern);
      let n = 0;
      for (const idx of indices.values()) if (re.test(idx.name)) for (const d of idx.docs.values()) if (d.visible) n++;
      return n;
    },
    /** Stops the refresh timers. */
    close() {
      for (const idx of indices.values()) clearInterval(idx.timer);
    },
  };
}
