/**
 * Redis round trips of one trivial run, end to end (launch → queue → sandbox → result stored),
 * counted at the client: every command ioredis sends, a pipeline or MULTI counted once. A
 * command is Veer's when it was issued on behalf of the run (the launch, or the executor's
 * handling of the job, followed through AsyncLocalStorage) or by the queue's group slots;
 * BullMQ's own (its job scripts and blocking reads on the queue's keys) are counted apart, as
 * is the engine's background work (heartbeats, trigger refreshes), which is not per run.
 * The assertion keeps the per-run figure from creeping back up.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { RunJob } from '../../engine/ports/run-queue.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Veer's round trips for one trivial run; it was 15 (34 commands) before they were combined, then 9 with the quarantine read on its own. */
const MAX_VEER_ROUND_TRIPS = 8;

type Phase = 'launch' | 'run' | 'poll';
const phase = new AsyncLocalStorage<Phase>();

interface Sent {
  phase: Phase | undefined;
  name: string;
  key: string;
  /** The pipeline (or MULTI) it was sent in: one round trip for all its commands. */
  batch?: object;
}

/** The first key a command names (EVAL/EVALSHA: after the key count). */
function firstKey(name: string, args: unknown[]): string {
  const at = name === 'eval' || name === 'evalsha' ? 2 : 0;
  const k = args[at];
  return typeof k === 'string' ? k : Buffer.isBuffer(k) ? k.toString() : '';
}

interface Counted {
  veer: string[];
  bullmq: string[];
  background: number;
}

function roundTrips(sent: Sent[], queueTag: string): Counted {
  const out: Counted = { veer: [], bullmq: [], background: 0 };
  const batches = new Set<object>();
  for (const s of sent) {
    if (s.phase === 'poll') continue;
    if (s.batch) {
      if (batches.has(s.batch)) continue;
      batches.add(s.batch);
    }
    const label = `${s.name} ${s.key.replace(/^\{[^}]*\}:?/, '').replace(/[0-9a-z]{9}-[0-9a-f]{8}/, '<run>')}${s.batch ? ' (pipeline)' : ''}`;
    const onQueue = s.key.startsWith(queueTag);
    if (onQueue && !s.key.includes(':group:')) out.bullmq.push(label);
    else if (s.phase || s.key.includes(':group:')) out.veer.push(label);
    else out.background++;
  }
  return out;
}

const tally = (labels: string[]) => Object.entries(Object.groupBy(labels, (l) => l)).map(([l, v]) => `${v!.length} × ${l}`);

describe('Redis round trips of one run', () => {
  let t: TestSystem;
  const sent: Sent[] = [];
  let recording = false;
  const original = Redis.prototype.sendCommand;

  before(async () => {
    Redis.prototype.sendCommand = function (this: Redis, command: Parameters<Redis['sendCommand']>[0], stream?: unknown) {
      const c = command as unknown as { name: string; args: unknown[] };
      if (recording) sent.push({ phase: phase.getStore(), name: c.name, key: firstKey(c.name, c.args), batch: stream ? (stream as object) : undefined });
      return original.call(this, command, stream as never);
    } as Redis['sendCommand'];
    // Long heartbeats and locks keep the engine's periodic work out of the way (it is counted apart anyway).
    t = await startTestSystem({ env: { VEER_ENGINE_HEARTBEAT_MS: '60000', VEER_JOB_LOCK_MS: '600000' } });
    // The worker calls the executor through this object: its handling of a job is the run's phase.
    const executor = t.engine!.executor;
    const execute = executor.execute.bind(executor);
    executor.execute = (job: RunJob) => phase.run('run', () => execute(job));
  });
  after(async () => {
    Redis.prototype.sendCommand = original;
    await t.stop();
  });

  async function oneRun(input: number) {
    const res = await phase.run('launch', () => t.system.stores.launcher.start('trivial', { trigger: { type: 'manual' }, input }));
    assert.ok(res.started);
    const id = res.run.id;
    const done = await phase.run('poll', () =>
      waitFor(
        async () => {
          const run = await t.system.stores.runs.get(id);
          // BullMQ's last word (the job removed on completion) ends the window too.
          return run?.status === 'succeeded' && (await t.redisClient.exists(`${t.keys.queuePrefix}:runs:${id}`)) === 0 && run;
        },
        { timeoutMs: 20_000, what: 'the run to succeed and its job to be gone' },
      ),
    );
    return done;
  }

  it('takes at most the counted round trips, each phase in one combined write where it can', async () => {
    const put = await t.call('PUT', '/api/v1/workflows/trivial', { script: 'export default async function (ctx) { return ctx.input }' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // Warm: scripts loaded, the version cached, sandbox processes up.
    for (let i = 0; i < 3; i++) await oneRun(i);

    recording = true;
    const run = await oneRun(42);
    recording = false;
    assert.equal(run.result, 42);

    const counted = roundTrips(sent, t.keys.queuePrefix);
    const diagnostic = [
      `Veer: ${counted.veer.length} round trips`,
      ...tally(counted.veer).map((l) => `  ${l}`),
      `BullMQ's own: ${counted.bullmq.length}`,
      ...tally(counted.bullmq).map((l) => `  ${l}`),
      `background (not per run): ${counted.background}`,
    ].join('\n');
    console.log(diagnostic);
    assert.ok(counted.veer.length <= MAX_VEER_ROUND_TRIPS, `more Redis round trips per run than ${MAX_VEER_ROUND_TRIPS}:\n${diagnostic}`);
    // What the combined steps replaced must not come back as separate calls.
    for (const gone of ['hgetall', 'sadd', 'srem', 'hincrby', 'multi'])
      assert.ok(!counted.veer.some((l) => l.startsWith(`${gone} `)), `${gone} is back:\n${diagnostic}`);
    assert.ok(!counted.veer.some((l) => l.startsWith('hget wf:trivial:versions')), `the version was fetched again:\n${diagnostic}`);
    // The quarantine is read by the script that starts the attempt, not by a command of its own.
    assert.ok(!counted.veer.some((l) => l.startsWith('hget wf:trivial:quarantine')), `the quarantine was read on its own:\n${diagnostic}`);
  });
});
