import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { createElasticsearchMetricsStore } from '../../adapters/metrics/elasticsearch.ts';
import { runMetricsStoreContract } from './metrics-store.contract.ts';
import { startElasticsearchDouble } from '../doubles/elasticsearch.ts';

// Against the protocol double by default; with ES_URL set, against that real cluster.
runMetricsStoreContract(process.env.ES_URL ? `elasticsearch (${process.env.ES_URL})` : 'elasticsearch (protocol double)', async () => {
  const double = process.env.ES_URL ? undefined : await startElasticsearchDouble({ refreshIntervalMs: -1 });
  const client = new Client({ node: process.env.ES_URL ?? double!.url });
  const prefixes: string[] = [];
  return {
    async create(now) {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      prefixes.push(prefix);
      return createElasticsearchMetricsStore({ client, indexPrefix: prefix, now, refresh: true });
    },
    async teardown() {
      for (const p of prefixes) {
        await client.indices.delete({ index: `${p}-requests-*`, ignore_unavailable: true }).catch(() => undefined);
        await client.indices.deleteIndexTemplate({ name: `${p}-requests` }).catch(() => undefined);
      }
      await client.close();
      await double?.stop();
    },
  };
});
