import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedisBackend, type RedisBackend } from '../../adapters/redis/index.ts';
import { WorkflowSpecSchema, type WorkflowPause } from '../../engine/domain/workflow.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { keysMatching, startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** The Redis workflow and state stores: pause/resume, deletion (tombstone, every key), clearing state. */
describe('WorkflowStore and StateStore: redis', () => {
  let redis: TestRedis;
  let backend: RedisBackend;
  const spec = WorkflowSpecSchema.parse({ script: 'export default async () => 1;' });
  const pause: WorkflowPause = { by: 'ops', at: '2025-01-02T03:04:05.000Z', reason: 'incident 42' };
  let n = 0;
  async function workflow(): Promise<string> {
    const name = `wf-${++n}`;
    await backend.workflows.put(name, spec, spec.script);
    return name;
  }
  const isNotFound = (err: unknown) => err instanceof NotFoundError && err.code === 'NOT_FOUND';

  before(async () => {
    redis = await startRedis();
    backend = createRedisBackend({ target: redis.target, prefix: `t${randomUUID().slice(0, 8)}`, runHistory: 10, runLogMax: 10, logger: silentLogger() });
  });
  after(async () => {
    await backend?.close();
    await redis?.stop();
  });

  it('pauses and resumes without a new version: get, require and list carry paused, versions do not', async () => {
    const wf = await workflow();
    const other = await workflow();
    const paused = await backend.workflows.setPaused(wf, pause);
    assert.deepEqual(paused.paused, pause);
    assert.equal(paused.version, 1);
    assert.deepEqual((await backend.workflows.get(wf))?.paused, pause);
    assert.deepEqual((await backend.workflows.require(wf)).paused, pause);
    assert.deepEqual((await backend.workflows.list()).find((w) => w.name === wf)?.paused, pause);
    assert.equal((await backend.workflows.list()).find((w) => w.name === other)?.paused, undefined, 'other workflows are not paused');
    assert.equal((await backend.workflows.getVersion(wf, 1))?.paused, undefined, 'a version is what was uploaded');
    assert.deepEqual(
      (await backend.workflows.versions(wf)).map((v) => v.version),
      [1],
    );

    const resumed = await backend.workflows.setPaused(wf, null);
    assert.equal(resumed.paused, undefined);
    assert.equal(resumed.version, 1);
    assert.equal((await backend.workflows.get(wf))?.paused, undefined);
    assert.equal('paused' in (await backend.workflows.require(wf)), false);
  });

  it('keeps a pause across a new version', async () => {
    const wf = await workflow();
    await backend.workflows.setPaused(wf, pause);
    const v2 = await backend.workflows.put(wf, { ...spec, description: 'v2' }, spec.script);
    assert.equal(v2.version, 2);
    assert.deepEqual(v2.paused, pause);
    assert.deepEqual((await backend.workflows.get(wf))?.paused, pause);
  });

  it('announces a pause and a resume to subscribers', async () => {
    const wf = await workflow();
    const heard: string[] = [];
    const unsubscribe = backend.workflows.subscribe((name) => heard.push(name));
    try {
      // Subscribing is asynchronous: pause until the first announcement gets through.
      await waitFor(async () => (await backend.workflows.setPaused(wf, pause)) && heard.includes(wf), { what: 'a pause announced' });
      heard.length = 0;
      await backend.workflows.setPaused(wf, null);
      await waitFor(() => heard.includes(wf), { what: 'a resume announced' });
    } finally {
      unsubscribe();
    }
  });

  it('refuses to pause or resume a workflow that does not exist', async () => {
    await assert.rejects(backend.workflows.setPaused('nope', pause), isNotFound);
    await assert.rejects(backend.workflows.setPaused('nope', null), isNotFound);
    assert.equal(await backend.workflows.get('nope'), undefined);
    const wf = await workflow();
    await backend.workflows.delete(wf);
    await assert.rejects(backend.workflows.setPaused(wf, pause), isNotFound);
    await backend.workflows.put(wf, spec, spec.script);
    assert.equal((await backend.workflows.get(wf))?.paused, undefined, 'a deleted workflow leaves no pause behind');
  });

  it('leaves a 30-day tombstone on delete, which a new put removes', async () => {
    const wf = await workflow();
    assert.equal(await backend.workflows.deletedAt(wf), undefined);
    const earliest = Date.now();
    assert.equal(await backend.workflows.delete(wf), true);
    const at = await backend.workflows.deletedAt(wf);
    assert.ok(at && Date.parse(at) >= earliest - 1000 && Date.parse(at) <= Date.now() + 1000, `deletedAt ${at}`);
    const ttl = await backend.connections.command.ttl(backend.keys.workflowDeleted(wf));
    assert.ok(ttl > 29 * 24 * 3600 && ttl <= 30 * 24 * 3600, `ttl ${ttl}s`);
    await backend.workflows.put(wf, spec, spec.script);
    assert.equal(await backend.workflows.deletedAt(wf), undefined);
  });

  it('leaves no tombstone for a workflow that never existed', async () => {
    assert.equal(await backend.workflows.delete('never-was'), false);
    assert.equal(await backend.workflows.deletedAt('never-was'), undefined);
  });

  it('deletes every key of the workflow: pause, signals, trigger history and state', async () => {
    const wf = await workflow();
    await backend.workflows.setPaused(wf, pause);
    await backend.signals.send(wf, { name: 'promote', value: 1, sentBy: 'ops' });
    await backend.signals.send(wf, { name: 'abort', value: 2, sentBy: 'ops' });
    await backend.signals.take(wf, 'run-1');
    await backend.triggerHistory.record(wf, { at: new Date().toISOString(), trigger: 'cron', outcome: 'fired', runId: 'run-1' });
    await backend.state.set(wf, 'step', 2);
    const redisKeys = backend.keys.perWorkflow(wf);
    assert.ok((await backend.connections.command.exists(...redisKeys)) >= 10, 'workflow, versions, state, pause, five signal keys, history');
    await backend.workflows.delete(wf);
    assert.equal(await backend.connections.command.exists(...redisKeys), 0);
    assert.deepEqual(await keysMatching(backend.connections.command, `${backend.keys.workflow(wf)}:*`), [backend.keys.workflowDeleted(wf)]);
  });

  it('clears the state of one workflow, saying how many keys there were', async () => {
    const wf = await workflow();
    const other = await workflow();
    await backend.state.set(wf, 'step', 3);
    await backend.state.set(wf, 'history', [{ weight: 5 }]);
    await backend.state.set(wf, 'empty', {});
    await backend.state.set(other, 'step', 1);
    assert.equal(await backend.state.clear(wf), 3);
    assert.deepEqual(await backend.state.all(wf), {});
    assert.equal(await backend.state.clear(wf), 0);
    assert.deepEqual(await backend.state.all(other), { step: 1 });
    assert.ok(await backend.workflows.get(wf), 'the workflow itself stays');
  });
});
