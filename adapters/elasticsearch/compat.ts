import type { Client, TransportRequestOptions } from '@elastic/elasticsearch';
import { VeerError } from '../../engine/shared/errors.ts';
import { translateEsError, type EsArea } from './errors.ts';

/** Per-request options that pin the media types to the server's major. */
export interface EsCompat {
  major: 8 | 9;
  /** For requests with a JSON body, or none. */
  json: TransportRequestOptions;
  /** For `_bulk` (NDJSON body). */
  ndjson: TransportRequestOptions;
}

const compatByClient = new WeakMap<Client, Promise<EsCompat>>();

/**
 * Supports Elasticsearch 8 and 9 with the one 9.x client. The client sends
 * `compatible-with=9` media types, which an 8.x server refuses on every call (400
 * media_type_header_exception: it accepts its own major and the one before). So the first
 * call on a client asks the server its version with plain `application/json` (every major
 * accepts unversioned media types) and every later call sends `compatible-with=<that
 * major>`, per request, so an injected client works the same. Pinning the major, rather
 * than always sending plain JSON, keeps the answer format the one we checked, and turns an
 * unsupported server into a clear CONFIG error instead of odd failures later.
 * https://www.elastic.co/docs/reference/elasticsearch/rest-apis/compatibility
 * Cached per client; a failed check (server down) is retried on the next call.
 */
export function elasticsearchCompat(client: Client, what: EsArea): Promise<EsCompat> {
  let p = compatByClient.get(client);
  if (!p) {
    p = detect(client, what);
    compatByClient.set(client, p);
    p.catch((err: unknown) => {
      if ((err as VeerError).code !== 'CONFIG') compatByClient.delete(client);
    });
  }
  return p;
}

async function detect(client: Client, what: EsArea): Promise<EsCompat> {
  let number: string;
  try {
    const info = await client.info(undefined, { headers: { accept: 'application/json', 'content-type': 'application/json' } });
    number = String(info.version?.number ?? '');
  } catch (err) {
    throw translateEsError(what, 'version check (GET /)', err);
  }
  const major = Number.parseInt(number, 10);
  if (major !== 8 && major !== 9) {
    throw new VeerError(
      'CONFIG',
      `${what} store (elasticsearch): the server at VEER_ES_URL is Elasticsearch ${number || '(no version)'}; supported versions are Elasticsearch 8.x and 9.x`,
    );
  }
  const json = `application/vnd.elasticsearch+json; compatible-with=${major}`;
  const ndjson = `application/vnd.elasticsearch+x-ndjson; compatible-with=${major}`;
  return { major, json: { headers: { accept: json, 'content-type': json } }, ndjson: { headers: { accept: json, 'content-type': ndjson } } };
}
