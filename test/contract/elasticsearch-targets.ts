import { Client } from '@elastic/elasticsearch';
import { startElasticsearchDouble, type ElasticsearchDouble, type ElasticsearchDoubleOptions } from '../doubles/elasticsearch.ts';

/** The Elasticsearch majors Veer supports; every ES suite runs against the double as each. */
export const ES_MAJORS = [8, 9] as const;

export interface EsTarget {
  name: string;
  url: string;
  /** Absent against a real cluster (ES_URL). */
  double?: ElasticsearchDouble;
  /** What the adapters under test get: a default 9.x client (compatible-with=9 media types), whatever the server's major; they must adapt. */
  client: Client;
  /** The test's own setup, writes and teardown (adminClient). */
  admin: Client;
  /** Closes both clients, then stops the server (if it started one). */
  stop(): Promise<void>;
}

/**
 * Where the ES suites run: the protocol double as ES 8 and as ES 9, or, with ES_URL set,
 * that one real cluster (unless `doublesOnly`). Each entry starts its server, with its clients, when called.
 */
export function esTargets(
  options: Omit<ElasticsearchDoubleOptions, 'major'> & { /** Tests that count requests or use the double's hooks. */ doublesOnly?: boolean } = {},
): Array<{ name: string; start(): Promise<EsTarget> }> {
  if (process.env.ES_URL && !options.doublesOnly) {
    const url = process.env.ES_URL;
    return [{ name: `elasticsearch (${url})`, start: async () => withClients(url, url) }];
  }
  return ES_MAJORS.map((major) => ({
    name: `elasticsearch ${major} (protocol double)`,
    async start() {
      const double = await startElasticsearchDouble({ refreshIntervalMs: options.refreshIntervalMs, major });
      return withClients(`elasticsearch ${major} (protocol double)`, double.url, double);
    },
  }));
}

function withClients(name: string, url: string, double?: ElasticsearchDouble): EsTarget {
  const client = new Client({ node: url });
  const admin = adminClient(url);
  return {
    name,
    url,
    ...(double ? { double } : {}),
    client,
    admin,
    async stop() {
      await client.close();
      await admin.close();
      await double?.stop();
    },
  };
}

/** Removes what a store under `prefix` left behind: its `<prefix>-<kind>-*` indices and its `<prefix>-<kind>` template. */
export async function removeStoreIndices(admin: Client, prefix: string, kind: 'events' | 'requests'): Promise<void> {
  await admin.indices.delete({ index: `${prefix}-${kind}-*`, ignore_unavailable: true }).catch(() => undefined);
  await admin.indices.deleteIndexTemplate({ name: `${prefix}-${kind}` }).catch(() => undefined);
}

/**
 * A client for the tests' own setup and teardown calls: unversioned `application/json`
 * media types, which ES 8 and 9 both accept (the 9.x client's default `compatible-with=9`
 * is refused by ES 8). Adapters under test get a default client instead.
 */
export function adminClient(url: string): Client {
  return new Client({ node: url, headers: { accept: 'application/json', 'content-type': 'application/json' } });
}
