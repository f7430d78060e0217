import { randomUUID } from 'node:crypto';
import { createElasticsearchEventStore } from '../../adapters/events/elasticsearch.ts';
import { runEventStoreContract } from './event-store.contract.ts';
import { esTargets, removeStoreIndices } from './elasticsearch-targets.ts';

// Against the protocol double as ES 8 and as ES 9 by default; with ES_URL set, against that real cluster.
for (const target of esTargets({ refreshIntervalMs: 50 })) {
  runEventStoreContract(target.name, async () => {
    const es = await target.start();
    const prefixes: string[] = [];
    return {
      async create() {
        const prefix = `t-${randomUUID().slice(0, 8)}`;
        prefixes.push(prefix);
        return createElasticsearchEventStore({ client: es.client, indexPrefix: prefix, pollMs: 20, bufferMs: 5000 });
      },
      async teardown() {
        for (const p of prefixes) await removeStoreIndices(es.admin, p, 'events');
        await es.stop();
      },
    };
  });
}
