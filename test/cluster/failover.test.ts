/**
 * Redis failover under a running Veer (API + engine): a planned CLUSTER FAILOVER, a Cluster
 * master killed, and a Sentinel-managed master killed. Each time: no workflow, accepted run,
 * schedule or event is lost, and the system serves again by itself; the time it took is
 * printed (diagnostic `serving again after … ms`).
 *
 * Redis replicates asynchronously, so a write acknowledged in the last moment before a master
 * *crash* can be lost (Redis docs, "Redis Cluster consistency guarantees"). The crash cases
 * therefore kill the master once its replica has caught up with what the test wrote before;
 * runs accepted while the takeover is under way are then checked as in the planned case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisCluster, type Takeover, type TestRedisCluster } from '../helpers/redis-cluster.ts';
import { onCluster, onSentinels, type TestRedis } from '../helpers/redis-server.ts';
import { startRedisSentinel, type TestRedisSentinel } from '../helpers/redis-sentinel.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const SCRIPT = 'export default async function (ctx) { return { trigger: ctx.run.trigger.type } }';

/** Starts runs through the API every few ms while a takeover happens; keeps every id the API accepted. */
function launcher(t: TestSystem) {
  const accepted: string[] = [];
  let refused = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await t.call('POST', '/api/v1/workflows/job/runs', {});
      if (r.status === 201) accepted.push(r.body.id);
      else refused++;
      await new Promise((resolve) => setTimeout(resolve, 20)); // pacing the load, not synchronising
    }
  })();
  return {
    accepted,
    refused: () => refused,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** A plain connection to one node (commands queue until it is connected); the caller disconnects it. */
function direct(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  return client;
}

/** Until the master holding `key`'s slot has shipped all it has to its replicas. */
async function replicated(client: Redis): Promise<void> {
  await waitFor(
    async () => {
      const info = await client.info('replication');
      const master = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? NaN);
      const replicas = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((m) => Number(m[1]));
      return replicas.length > 0 && replicas.every((o) => o >= master);
    },
    { timeoutMs: 10_000, what: 'the replica to catch up' },
  );
}

async function scenario(ctx: TestContext, redis: TestRedis, masterOfControlPlane: (prefix: string) => Promise<Redis>, takeover: () => Promise<Takeover>) {
  const t = await startTestSystem({ redis, env: { VEER_ENGINE_CONCURRENCY: '4' } });
  try {
    const calls = workflowCalls(() => t);
    await calls.put('job', { script: SCRIPT });
    await calls.put('tick', { script: SCRIPT, trigger: { cron: '* * * * * *' } });
    await calls.put('on-deploy', { script: SCRIPT, trigger: { events: { tags: ['deploy'] } } });
    const before = [];
    for (let i = 0; i < 5; i++) before.push((await calls.run('job')).id as string);
    const events = [];
    for (let i = 0; i < 3; i++) events.push((await t.call('POST', '/api/v1/events', { tags: ['deploy'], type: 'release', value: i })).body.id as string);
    await waitFor(async () => (await calls.runsOf('on-deploy')).length >= 3, { timeoutMs: 30_000, what: 'the event-triggered runs' });
    await waitFor(async () => (await calls.runsOf('tick')).length >= 1, { timeoutMs: 30_000, what: 'a first cron run' });

    const master = await masterOfControlPlane(t.env.VEER_REDIS_PREFIX!);
    try {
      await replicated(master);
    } finally {
      master.disconnect();
    }
    const load = launcher(t);
    const t0 = Date.now();
    const takenOver = await takeover();
    // Serving again: a run started after the takeover and finished through the API.
    let fresh: any;
    await waitFor(
      async () => {
        const r = await t.call('POST', '/api/v1/workflows/job/runs?wait=true', {});
        if (r.status === 201 && r.body.status === 'succeeded') fresh = r.body;
        return !!fresh;
      },
      { timeoutMs: 60_000, what: 'a run to succeed after the takeover' },
    );
    const servingMs = Date.now() - t0;
    await load.stop();
    ctx.diagnostic(
      `takeover ${takenOver.from} → ${takenOver.to} in ${takenOver.ms} ms; a new run succeeded ${servingMs} ms after the takeover began; ` +
        `${load.accepted.length} runs accepted meanwhile, ${load.refused()} refused (503, the client retries)`,
    );

    const names = ((await t.call('GET', '/api/v1/workflows')).body.workflows as { name: string }[]).map((w) => w.name).sort();
    assert.deepEqual(names, ['job', 'on-deploy', 'tick'], 'every workflow is still there');
    for (const id of [...before, ...load.accepted]) {
      const run = await calls.finished(id);
      assert.equal(run.status, 'succeeded', `run ${id} ended ${run.status}: ${JSON.stringify(run.error)}`);
    }
    const stored = ((await t.call('GET', '/api/v1/events?tag=deploy&limit=100')).body.events as { id: string }[]).map((e) => e.id);
    for (const id of events) assert.ok(stored.includes(id), `event ${id} is still there`);
    const ticksBefore = (await calls.runsOf('tick')).length;
    await waitFor(async () => (await calls.runsOf('tick')).length > ticksBefore, { timeoutMs: 30_000, what: 'the schedule to fire again' });
    const later = (await t.call('POST', '/api/v1/events', { tags: ['deploy'], type: 'release', value: 'after' })).body.id as string;
    await waitFor(async () => (await calls.runsOf('on-deploy')).some((r) => r.trigger?.eventId === later), {
      timeoutMs: 30_000,
      what: 'an event after the takeover to trigger its run',
    });
  } finally {
    await t.stop();
  }
}

describe('Redis Cluster failover under a running Veer', { timeout: 280_000 }, () => {
  let cluster: TestRedisCluster | undefined;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => cluster?.stop());
  // The master of the control plane's slot: the one that matters (BullMQ's queue sits on its own tag).
  const portOf = async (prefix: string) => {
    const probe = direct(cluster!.ports[0]);
    try {
      const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', `{${prefix}}`));
      return (await cluster!.masters()).find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b))!.port;
    } finally {
      probe.disconnect();
    }
  };
  const masterOf = async (prefix: string) => direct(await portOf(prefix));

  /** The scenario with `takeover` aimed at the master of the system's control plane. */
  const onControlPlane = (ctx: TestContext, takeover: (port: number) => Promise<Takeover>) => {
    let prefix = '';
    return scenario(
      ctx,
      onCluster(cluster!.nodes),
      async (p) => ((prefix = p), masterOf(p)),
      async () => takeover(await portOf(prefix)),
    );
  };

  it('loses nothing and serves again after a planned CLUSTER FAILOVER', (ctx) => onControlPlane(ctx, (port) => cluster!.failover(port)));

  it('loses nothing and serves again after the master of the control plane is killed', (ctx) => onControlPlane(ctx, (port) => cluster!.killMaster(port)));
});

describe('Redis Sentinel failover under a running Veer', { timeout: 200_000 }, () => {
  let sentinel: TestRedisSentinel | undefined;
  after(async () => sentinel?.stop());

  it('loses nothing and serves again after the master is killed', async (ctx) => {
    sentinel = await startRedisSentinel();
    const redis = onSentinels(sentinel.sentinels, sentinel.name);
    await scenario(
      ctx,
      redis,
      async () => direct(await sentinel!.masterPort()),
      () => sentinel!.killMaster(),
    );
  });
});
