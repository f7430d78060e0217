import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBullmqRunQueue } from '../../adapters/queue/bullmq.ts';
import type { RunQueue, RunWorker } from '../../engine/ports/run-queue.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * `releaseGroupSlot`: a run whose engine is gone gives its workflow's slot back at once, and
 * the job waiting for that slot starts — without waiting for the dead holder's lease.
 */
describe('RunQueue.releaseGroupSlot: bullmq', () => {
  let redis: TestRedis;
  let connection: Redis;
  let queue: RunQueue;
  let worker: RunWorker | undefined;
  // Hash-tagged as keys.ts tags the real queue, so BullMQ's scripts stay in one slot of a cluster.
  const prefix = `{t${randomUUID().slice(0, 8)}:q}`;

  before(async () => {
    redis = await startRedis();
    connection = redis.client({ maxRetriesPerRequest: null });
    // Parked jobs come back by themselves only after a minute: within the test only a wake-up brings them.
    queue = createBullmqRunQueue({ connection, connect: () => redis.client({ maxRetriesPerRequest: null }), prefix, parkMs: 60_000 });
  });
  after(async () => {
    await worker?.close(true);
    await queue?.close();
    connection?.disconnect();
    await redis?.stop();
  });

  it('frees the slot of a stuck run so the parked job of its group starts', async () => {
    const group = { id: 'wf-shop', concurrency: 1 };
    const started: string[] = [];
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    worker = queue.work({
      concurrency: 2,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      async process(job) {
        started.push(job.runId);
        // The first run stands for one whose engine died: it holds its slot until told otherwise.
        if (job.runId === 'run-stuck') await blocked;
        return 'done';
      },
    });
    await worker.ready();
    await queue.enqueue('run-stuck', { attempts: 1, backoffMs: 10, group });
    await waitFor(() => started.includes('run-stuck'), { what: 'the first run started' });
    await queue.enqueue('run-next', { attempts: 1, backoffMs: 10, group });
    await waitFor(async () => (await connection.zscore(`${prefix}:runs:group:${group.id}:parked`, 'run-next')) !== null, { what: 'the second run parked' });
    assert.deepEqual(started, ['run-stuck'], 'the group is full');

    await queue.releaseGroupSlot('run-stuck', group);
    await waitFor(() => started.includes('run-next'), { what: 'the parked run started after the release' });
    unblock();
    await waitFor(async () => (await queue.counts()).active === 0, { what: 'both runs done' });
  });

  it('is a no-op for a run that holds no slot', async () => {
    await queue.releaseGroupSlot('run-unknown', { id: 'wf-quiet', concurrency: 2 });
    assert.equal(await connection.exists(`${prefix}:runs:group:wf-quiet:running`, `${prefix}:runs:group:wf-quiet:parked`), 0);
  });
});
