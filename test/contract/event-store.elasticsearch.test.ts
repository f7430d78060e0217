import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { createElasticsearchEventStore } from '../../adapters/events/elasticsearch.ts';
import { runEventStoreContract } from './event-store.contract.ts';
import { startElasticsearchDouble } from '../doubles/elasticsearch.ts';

// Against the protocol double by default; with ES_URL set, against that real cluster.
runEventStoreContract(process.env.ES_URL ? `elasticsearch (${process.env.ES_URL})` : 'elasticsearch (protocol double)', async () => {
  const double = process.env.ES_URL ? undefined : await startElasticsearchDouble({ refreshIntervalMs: 50 });
  const url = process.env.ES_URL ?? double!.url;
  const client = new Client({ node: url });
  const prefixes: string[] = [];
  return {
    async create() {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      prefixes.push(prefix);
      return createElasticsearchEventStore({ client, indexPrefix: prefix, pollMs: 20, bufferMs: 5000 });
    },
    async teardown() {
      for (const p of prefixes) {
        await client.indices.delete({ index: `${p}-events-*`, ignore_unavailable: true }).catch(() => undefined);
        await client.indices.deleteIndexTemplate({ name: `${p}-events` }).catch(() => undefined);
      }
      await client.close();
      await double?.stop();
    },
  };
});
