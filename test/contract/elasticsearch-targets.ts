import { Client } from '@elastic/elasticsearch';
import { startElasticsearchDouble, type ElasticsearchDouble, type ElasticsearchDoubleOptions } from '../doubles/elasticsearch.ts';

/** The Elasticsearch majors Veer supports; every ES suite runs against the double as each. */
export const ES_MAJORS = [8, 9] as const;

export interface EsTarget {
  name: string;
  url: string;
  /** Absent against a real cluster (ES_URL). */
  double?: ElasticsearchDouble;
  stop(): Promise<void>;
}

/**
 * Where the ES suites run: the protocol double as ES 8 and as ES 9, or, with ES_URL set,
 * that one real cluster (unless `doublesOnly`). Each entry starts its server when called.
 */
export function esTargets(
  options: Omit<ElasticsearchDoubleOptions, 'major'> & { /** Tests that count requests or use the double's hooks. */ doublesOnly?: boolean } = {},
): Array<{ name: string; start(): Promise<EsTarget> }> {
  if (process.env.ES_URL && !options.doublesOnly) {
    const url = process.env.ES_URL;
    return [{ name: `elasticsearch (${url})`, start: async () => ({ name: url, url, stop: async () => undefined }) }];
  }
  return ES_MAJORS.map((major) => ({
    name: `elasticsearch ${major} (protocol double)`,
    async start() {
      const double = await startElasticsearchDouble({ refreshIntervalMs: options.refreshIntervalMs, major });
      return { name: `elasticsearch ${major} (protocol double)`, url: double.url, double, stop: () => double.stop() };
    },
  }));
}

/**
 * A client for the tests' own setup and teardown calls: unversioned `application/json`
 * media types, which ES 8 and 9 both accept (the 9.x client's default `compatible-with=9`
 * is refused by ES 8). Adapters under test get a default client instead.
 */
export function adminClient(url: string): Client {
  return new Client({ node: url, headers: { accept: 'application/json', 'content-type': 'application/json' } });
}
