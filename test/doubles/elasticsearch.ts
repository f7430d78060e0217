import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bulk } from './elasticsearch-bulk.ts';
import { compatibilityError, infoBody } from './elasticsearch-compat.ts';
import { createFaults, type ElasticsearchFaultHooks } from './elasticsearch-faults.ts';
import { createIndexStore } from './elasticsearch-indices.ts';
import { EsError, type Index, type Template } from './elasticsearch-model.ts';
import { search } from './elasticsearch-search.ts';

/**
 * An Elasticsearch protocol DOUBLE (not Elasticsearch): an in-process HTTP server that
 * speaks the part of the REST API Veer's adapters use, so they are tested through the
 * real `@elastic/elasticsearch` client. No real server can run on these machines.
 *
 * Covered: `GET /` info, index templates, index create/exists/delete, `_doc`/`_create`,
 * `_bulk` (NDJSON, per-item results and errors), `_search` (bool filter/must/should/
 * must_not, range, term, terms, match, match_all, exists; sort, search_after, from/size;
 * aggregations avg/sum/min/max/value_count/percentiles/filter/terms/date_histogram), `_refresh`.
 * Every response carries `X-Elastic-Product: Elasticsearch`, which the client requires.
 * Percentiles are computed exactly with TDigest-like interpolation (real ES approximates).
 *
 * This file is the server and its routing. Behaviour that bit us on real clusters,
 * reproduced on purpose, lives beside it, each with its sources:
 * - REST API compatibility (`major` 8 or 9): elasticsearch-compat.ts.
 * - Refresh (searchable only after a refresh of its index) and composable templates
 *   (same-priority overlaps refused): elasticsearch-indices.ts.
 * - Partial results (failed or timed-out shards answer 200; unmapped sort fields fail a
 *   shard; no `aggregations` when no index matched): elasticsearch-search.ts, with the query
 *   DSL in elasticsearch-query.ts and `date_histogram` (fixed intervals, bounds, the
 *   max_buckets limit) in elasticsearch-date-histogram.ts.
 * - `_bulk` items failing on their own: elasticsearch-bulk.ts.
 * - The test hooks that inject those faults: elasticsearch-faults.ts.
 */
export interface ElasticsearchDouble extends ElasticsearchFaultHooks {
  url: string;
  /** The major version it behaves as (8 or 9). */
  major: 8 | 9;
  /** Makes pending writes searchable (all indices, or those matching `pattern`). */
  refresh(pattern?: string): void;
  /** Changes the periodic refresh of indices without their own `refresh_interval`; -1 stops it. */
  setRefreshInterval(ms: number): void;
  /** Requests received, e.g. to assert that a call was made. */
  requests: Array<{ method: string; path: string; accept?: string; contentType?: string }>;
  /** Number of searchable documents across indices matching `pattern`. */
  count(pattern?: string): number;
  stop(): Promise<void>;
}

export interface ElasticsearchDoubleOptions {
  /** Default periodic refresh (ms) of indices without their own `refresh_interval`; -1 = only on demand. Default 1000 (ES's 1s). */
  refreshIntervalMs?: number;
  /** The major version to behave as. Default 9. */
  major?: 8 | 9;
}

export async function startElasticsearchDouble(options: ElasticsearchDoubleOptions = {}): Promise<ElasticsearchDouble> {
  const major = options.major ?? 9;
  const requests: ElasticsearchDouble['requests'] = [];
  const indices = new Map<string, Index>();
  const faults = createFaults(indices);
  const store = createIndexStore(indices, { refreshIntervalMs: options.refreshIntervalMs ?? 1000, isHeld: faults.isHeld });
  const { templates, refresh, resolve } = store;

  // "all shards failed" lists its shards' own causes as root causes, once each (ES's
  // SearchPhaseExecutionException#guessRootCauses); any other error is its own root cause.
  const rootCauses = (e: EsError) => {
    const failures = (e as { failures?: Array<{ reason?: { type: string; reason: string } }> }).failures;
    const causes = new Map<string, { type: string; reason: string }>();
    for (const f of failures ?? []) if (f.reason) causes.set(`${f.reason.type}\u0000${f.reason.reason}`, { type: f.reason.type, reason: f.reason.reason });
    return causes.size ? [...causes.values()] : [{ type: e.type, reason: e.message }];
  };
  const errorBody = (e: EsError) => ({
    error: {
      root_cause: rootCauses(e),
      type: e.type,
      reason: e.message,
      ...(e.causedBy ? { caused_by: e.causedBy } : {}),
      ...((e as { failures?: unknown }).failures ? { phase: 'query', grouped: true, failed_shards: (e as { failures?: unknown }).failures } : {}),
    },
    status: e.status,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const accept = req.headers.accept;
    const contentType = req.headers['content-type'];
    requests.push({ method, path: url.pathname, accept, contentType });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const json = () => (text ? (JSON.parse(text) as Record<string, unknown>) : {});
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(method === 'HEAD' || body === undefined ? undefined : JSON.stringify(body));
    };
    const refreshParam = url.searchParams.get('refresh');
    // `wait_for` answers once a refresh has made the write visible; the double refreshes at once, which differs only in timing.
    const afterWrite = (pattern: string) => {
      if (refreshParam === 'true' || refreshParam === '' || refreshParam === 'wait_for') refresh(pattern);
    };
    try {
      // Checked before routing, like RestRequest does while parsing the headers: every endpoint answers the same 400.
      const incompatible = compatibilityError(major, accept, contentType, text.length > 0);
      if (incompatible) throw incompatible;
      if (parts.length === 0) return send(200, infoBody(major));
      const [first, second, third] = parts;
      if (first === '_index_template') {
        if (method === 'PUT' || method === 'POST') {
          store.putTemplate(second, json() as unknown as Template);
          return send(200, { acknowledged: true });
        }
        if (method === 'DELETE') {
          if (!templates.delete(second)) throw new EsError(404, 'resource_not_found_exception', `index_template [${second}] missing`);
          return send(200, { acknowledged: true });
        }
        const t = templates.get(second);
        if (!t)
          return send(
            404,
            method === 'HEAD' ? undefined : errorBody(new EsError(404, 'resource_not_found_exception', `index template matching [${second}] not found`)),
          );
        return send(200, { index_templates: [{ name: second, index_template: t }] });
      }
      if (first === '_bulk' || second === '_bulk') {
        const r = bulk(text, first === '_bulk' ? undefined : first, store, faults.takeBulkItemRejection);
        afterWrite(first === '_bulk' ? '*' : first);
        const status = faults.takeBulkFailure();
        if (status !== undefined) return send(status, { error: { type: 'bad_gateway', reason: 'upstream answered after the proxy gave up (double)' }, status });
        return send(200, r);
      }
      if (first === '_refresh') {
        refresh();
        return send(200, { _shards: { total: indices.size, successful: indices.size, failed: 0 } });
      }
      if (first === '_search') return send(200, search([...indices.values()], json(), faults.takeShardFaults));
      // /<index>[/...]
      if (second === undefined) {
        if (method === 'PUT') {
          if (indices.has(first)) throw new EsError(400, 'resource_already_exists_exception', `index [${first}/double] already exists`);
          store.createIndex(first, json());
          return send(200, { acknowledged: true, shards_acknowledged: true, index: first });
        }
        if (method === 'HEAD' || method === 'GET') {
          const found = resolve(first, new URLSearchParams({ ignore_unavailable: 'true' }));
          if (!found.length) throw new EsError(404, 'index_not_found_exception', `no such index [${first}]`);
          return send(200, Object.fromEntries(found.map((i) => [i.name, { mappings: i.mappings, settings: i.settings }])));
        }
        if (method === 'DELETE') {
          const found = resolve(first, url.searchParams);
          for (const i of found) store.dropIndex(i);
          return send(200, { acknowledged: true });
        }
      }
      if (second === '_search') return send(200, search(resolve(first, url.searchParams), json(), faults.takeShardFaults));
      if (second === '_refresh') {
        const found = resolve(first, url.searchParams);
        for (const i of found) store.refreshIndex(i);
        return send(200, { _shards: { total: found.length, successful: found.length, failed: 0 } });
      }
      if (second === '_mapping' && (method === 'PUT' || method === 'POST')) {
        store.putMapping(first, url.searchParams, (json() as { properties?: Record<string, unknown> }).properties);
        return send(200, { acknowledged: true });
      }
      if ((second === '_doc' || second === '_create') && (method === 'PUT' || method === 'POST')) {
        const r = store.write(first, third, json(), second === '_create' || url.searchParams.get('op_type') === 'create');
        afterWrite(first);
        return send(201, r);
      }
      if (second === '_doc' && method === 'GET') {
        const d = indices.get(first)?.docs.get(third ?? '');
        if (!d) return send(404, { _index: first, _id: third, found: false });
        return send(200, { _index: first, _id: d.id, found: true, _source: d.source });
      }
      throw new EsError(400, 'illegal_argument_exception', `${method} ${url.pathname} is not implemented by the double`);
    } catch (err) {
      const e = err instanceof EsError ? err : new EsError(400, 'parse_exception', (err as Error).message);
      return send(e.status, errorBody(e));
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify({ error: { type: 'exception', reason: String(err) }, status: 500 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    major,
    refresh,
    setRefreshInterval: store.setRefreshInterval,
    requests,
    count: store.count,
    ...faults.hooks,
    async stop() {
      store.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
