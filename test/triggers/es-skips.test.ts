import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createElasticsearchDocumentSearch } from '../../adapters/events/elasticsearch.ts';
import { createElasticsearchQueryTriggers } from '../../engine/events/es-query-trigger.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { esTargets, type EsTarget } from '../contract/elasticsearch-targets.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 20 };

/**
 * A disabled workflow's Elasticsearch trigger is still polled (by the leader): each new batch reaches the
 * launcher, which refuses it visibly (`disabled`), and the batch counts as delivered — it is
 * not offered again on the next poll.
 */
for (const target of esTargets({ refreshIntervalMs: 10, doublesOnly: true }))
  describe(`elasticsearch trigger of a disabled workflow (${target.name})`, () => {
    let t: TestSystem;
    let es: EsTarget;
    const wf = workflowCalls(() => t);
    const history = async () => (await t.call('GET', '/api/v1/workflows/es-off/triggers')).body.entries as any[];
    const searches = () => es.double?.requests.filter((r) => r.path.endsWith('/_search')).length ?? 0;
    before(async () => {
      t = await startTestSystem({ engine: false });
      es = await target.start();
    });
    after(async () => {
      await es.stop();
      await t.stop();
    });

    it('records one disabled skip per new batch, with the index, and does not retry it', async () => {
      const index = `errs-${randomUUID().slice(0, 6)}`;
      await wf.put('es-off', { script: 'export default async function () { return 1 }', trigger: { elasticsearch: { index, every: '50ms' } }, enabled: false });
      const s = t.system.stores;
      const triggers = createElasticsearchQueryTriggers({
        coordination: s.coordination,
        triggers: s.triggers,
        search: createElasticsearchDocumentSearch({ client: es.client }),
        workflows: s.workflows,
        launcher: s.launcher,
        logger: silentLogger(),
        tickMs: 20,
      });
      await triggers.start();
      try {
        // The first poll fixes the window's floor; documents count from after it.
        const floor = await waitFor(async () => (await s.triggers.esQuery.checkpoint('es-off'))?.floor, { ...WAIT, what: 'the first poll' });
        await es.admin.index({ index, document: { '@timestamp': new Date(Math.max(Date.now(), floor + 1)).toISOString(), msg: 'boom' }, refresh: true });
        await waitFor(async () => (await history()).length > 0, { ...WAIT, what: 'the skip record' });
        const polled = searches();
        await waitFor(() => searches() >= polled + 3, { ...WAIT, what: 'three more polls' });
      } finally {
        await triggers.stop();
      }
      assert.deepEqual(
        (await history()).map((e) => [e.trigger, e.outcome, e.reason, e.index]),
        [['elasticsearch', 'skipped', 'disabled', index]],
      );
      assert.equal((await wf.runsOf('es-off')).length, 0);
    });
  });
