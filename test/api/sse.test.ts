import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp } from '../../api/app.ts';
import { createRunRoutes, type RunRouteDeps } from '../../api/routes/runs.ts';
import type { LogEntry, Run } from '../../engine/domain/run.ts';
import type { RunStore } from '../../engine/ports/run-store.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** One run and its log, with `followLog` as the port describes it; records how it was called. */
function fakeRuns() {
  const run: Run = {
    id: 'r1',
    workflow: 'wf',
    workflowVersion: 1,
    status: 'running',
    trigger: { type: 'manual' },
    input: null,
    attempts: 1,
    maxAttempts: 1,
    queuedAt: new Date().toISOString(),
  };
  const log: LogEntry[] = [];
  const wakers = new Set<() => void>();
  const follows: Array<{ fromSeq: number; signal: AbortSignal; ended: boolean }> = [];
  const poke = () => [...wakers].forEach((w) => w());
  const store: Pick<RunStore, 'require' | 'readLog' | 'followLog'> = {
    async require(id) {
      if (id !== run.id) throw new NotFoundError('run', id);
      return { ...run };
    },
    async readLog(_id, o = {}) {
      return log.filter((e) => e.seq > (o.afterSeq ?? 0)).slice(0, o.limit ?? 10_000);
    },
    followLog(_id, fromSeq, { signal }) {
      const f = { fromSeq, signal, ended: false };
      follows.push(f);
      return (async function* () {
        let seq = fromSeq;
        try {
          while (!signal.aborted) {
            const batch = log.filter((e) => e.seq > seq);
            if (batch.length) {
              seq = batch.at(-1)!.seq;
              yield batch;
              continue;
            }
            if (run.status !== 'running') return;
            await new Promise<void>((resolve) => {
              const w = () => {
                wakers.delete(w);
                signal.removeEventListener('abort', w);
                resolve();
              };
              wakers.add(w);
              signal.addEventListener('abort', w);
            });
          }
        } finally {
          f.ended = true;
        }
      })();
    },
  };
  return {
    store,
    follows,
    append(message: string) {
      log.push({ seq: log.length + 1, time: new Date().toISOString(), level: 'info', message });
      poke();
    },
    finish() {
      run.status = 'succeeded';
      poke();
    },
  };
}

function appFor(runs: ReturnType<typeof fakeRuns>, heartbeatMs = 15_000) {
  const deps = { runs: runs.store, workflows: {}, launcher: {}, canceller: {}, heartbeatMs } as unknown as RunRouteDeps;
  return createApp({ logger: silentLogger(), tokens: [], routers: [createRunRoutes(deps)] });
}

/** Reads an SSE body as it arrives; `messages` are parsed frames, `text` the raw stream. */
async function open(app: ReturnType<typeof appFor>, path: string, headers: Record<string, string> = {}) {
  const res = await app.request(path, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const state = { text: '', done: false, messages: [] as Array<{ event?: string; id?: string; data?: string }> };
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      state.text += decoder.decode(value);
      state.messages = state.text
        .split('\n\n')
        .filter((f) => /^(event|id|data):/m.test(f))
        .map((f) => {
          const m: Record<string, string> = {};
          for (const line of f.split('\n')) {
            const i = line.indexOf(':');
            if (i > 0) m[line.slice(0, i)] = line.slice(i + 1).trimStart();
          }
          return m;
        });
    }
    state.done = true;
  })();
  return { state, close: () => reader.cancel() };
}

describe('run log follow (SSE through api/sse.ts and RunStore.followLog)', () => {
  it('sends the log as `log` events, then one `end` event with the final run, then closes', async () => {
    const runs = fakeRuns();
    runs.append('one');
    runs.append('two');
    const s = await open(appFor(runs), '/api/v1/runs/r1/logs?follow=true');
    await waitFor(() => s.state.messages.length === 2, { what: 'the existing entries' });
    runs.append('three');
    runs.finish();
    await waitFor(() => s.state.done, { what: 'the stream to end' });
    assert.deepEqual(
      s.state.messages.map((m) => [m.event, m.id]),
      [
        ['log', '1'],
        ['log', '2'],
        ['log', '3'],
        ['end', undefined],
      ],
    );
    assert.equal(JSON.parse(s.state.messages[2].data!).message, 'three');
    assert.equal(JSON.parse(s.state.messages[3].data!).status, 'succeeded');
  });

  it('resumes after Last-Event-ID (and ?after), without resending', async () => {
    const runs = fakeRuns();
    for (const m of ['a', 'b', 'c']) runs.append(m);
    runs.finish();
    const resumed = await open(appFor(runs), '/api/v1/runs/r1/logs?follow=true', { 'last-event-id': '2' });
    await waitFor(() => resumed.state.done, { what: 'the resumed stream to end' });
    assert.deepEqual(
      resumed.state.messages.map((m) => m.id ?? m.event),
      ['3', 'end'],
    );
    assert.equal(runs.follows[0].fromSeq, 2);
    const after = await open(appFor(runs), '/api/v1/runs/r1/logs?after=1', { accept: 'text/event-stream' });
    await waitFor(() => after.state.done, { what: 'the ?after stream to end' });
    assert.deepEqual(
      after.state.messages.map((m) => m.id ?? m.event),
      ['2', '3', 'end'],
    );
  });

  it('a client that leaves aborts the follower, which releases its reader', async () => {
    const runs = fakeRuns();
    runs.append('only');
    const s = await open(appFor(runs), '/api/v1/runs/r1/logs?follow=true');
    await waitFor(() => s.state.messages.length === 1, { what: 'the first entry' });
    await s.close();
    await waitFor(() => runs.follows[0].signal.aborted && runs.follows[0].ended, { what: 'followLog to end' });
  });

  it('sends heartbeat comments while the run is quiet', async () => {
    const runs = fakeRuns();
    const s = await open(appFor(runs, 20), '/api/v1/runs/r1/logs?follow=true');
    await waitFor(() => (s.state.text.match(/: heartbeat/g) ?? []).length >= 2, { what: 'two heartbeats' });
    await s.close();
  });

  it('an unknown run is a 404 before any stream starts', async () => {
    const res = await appFor(fakeRuns()).request('/api/v1/runs/nope/logs?follow=true');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'NOT_FOUND');
  });
});
