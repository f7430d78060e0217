import { randomUUID } from 'node:crypto';
import { createElasticsearchMetricsStore } from '../../adapters/metrics/elasticsearch.ts';
import { runMetricsStoreContract } from './metrics-store.contract.ts';
import { esTargets, removeStoreIndices } from './elasticsearch-targets.ts';

// Against the protocol double as ES 8 and as ES 9 by default; with ES_URL set, against that real cluster.
// No refresh per write: the requests template's refresh_interval (5s) applies, as in production,
// so a query right after a write sees the samples only if the store makes them searchable.
for (const target of esTargets()) {
  runMetricsStoreContract(target.name, async () => {
    const es = await target.start();
    const prefixes: string[] = [];
    return {
      async create(now) {
        const prefix = `t-${randomUUID().slice(0, 8)}`;
        prefixes.push(prefix);
        return createElasticsearchMetricsStore({ client: es.client, indexPrefix: prefix, now });
      },
      async teardown() {
        for (const p of prefixes) await removeStoreIndices(es.admin, p, 'requests');
        await es.stop();
      },
    };
  });
}
