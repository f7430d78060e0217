import { EsError, type Doc } from './elasticsearch-model.ts';
import type { IndexStore } from './elasticsearch-indices.ts';

/**
 * `_bulk` in the protocol double (test/doubles/elasticsearch.ts). Items fail on their own
 * (`errors: true`, per-item `status`, e.g. 429 `es_rejected_execution_exception` when the
 * write queue is full: `rejectItem` says when); items without `_id` get a generated id,
 * so a resent bulk indexes them twice.
 * https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
export function bulk(text: string, defaultIndex: string | undefined, store: IndexStore, rejectItem: () => boolean) {
  const lines = text.split('\n').filter((l) => l.trim());
  const items: unknown[] = [];
  let errors = false;
  for (let i = 0; i < lines.length; i++) {
    const action = JSON.parse(lines[i]) as Record<string, { _index?: string; _id?: string }>;
    const [op, meta] = Object.entries(action)[0];
    const index = meta._index ?? defaultIndex;
    let result: Record<string, unknown>;
    try {
      if (!index) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;');
      if (op === 'index' || op === 'create') {
        const source = JSON.parse(lines[++i]) as Doc;
        if (source === null || typeof source !== 'object' || Array.isArray(source))
          throw new EsError(400, 'mapper_parsing_exception', 'failed to parse: document must be an object');
        if (rejectItem())
          throw new EsError(429, 'es_rejected_execution_exception', `rejected execution of primary operation on [${index}][0] (double: write queue full)`);
        result = { ...store.write(index, meta._id, source, op === 'create'), status: 201 };
      } else if (op === 'delete') {
        const existed = store.indices.get(index)?.docs.delete(meta._id ?? '') ?? false;
        result = { _index: index, _id: meta._id, result: existed ? 'deleted' : 'not_found', status: existed ? 200 : 404 };
      } else throw new EsError(400, 'illegal_argument_exception', `bulk action [${op}] is not implemented by the double`);
    } catch (err) {
      if (!(err instanceof EsError)) throw err;
      errors = true;
      result = { _index: index, _id: meta._id, status: err.status, error: { type: err.type, reason: err.message } };
    }
    items.push({ [op]: result });
  }
  return { took: 1, errors, items };
}
