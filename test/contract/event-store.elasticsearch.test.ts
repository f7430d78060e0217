import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { createElasticsearchEventStore } from '../../adapters/events/elasticsearch.ts';
import { runEventStoreContract } from './event-store.contract.ts';
import { adminClient, esTargets } from './elasticsearch-targets.ts';

// Against the protocol double as ES 8 and as ES 9 by default; with ES_URL set, against that real cluster.
for (const target of esTargets({ refreshIntervalMs: 50 })) {
  runEventStoreContract(target.name, async () => {
    const es = await target.start();
    // The adapter gets a default 9.x client (compatible-with=9 media types): it must adapt them to the server.
    const client = new Client({ node: es.url });
    const admin = adminClient(es.url);
    const prefixes: string[] = [];
    return {
      async create() {
        const prefix = `t-${randomUUID().slice(0, 8)}`;
        prefixes.push(prefix);
        return createElasticsearchEventStore({ client, indexPrefix: prefix, pollMs: 20, bufferMs: 5000 });
      },
      async teardown() {
        for (const p of prefixes) {
          await admin.indices.delete({ index: `${p}-events-*`, ignore_unavailable: true }).catch(() => undefined);
          await admin.indices.deleteIndexTemplate({ name: `${p}-events` }).catch(() => undefined);
        }
        await client.close();
        await admin.close();
        await es.stop();
      },
    };
  });
}
