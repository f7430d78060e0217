import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Smaller finding of the trust issue: each `?follow=true` log stream held its own Redis
 * connection, so followers could exhaust Redis' clients. All followers of a process now
 * share one blocking read.
 */
const FOLLOWERS = 60;

/** Reads an SSE response to its end in the background; `text` grows as it arrives. */
function collect(res: Response) {
  const out = { text: '', done: false };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out.text += decoder.decode(value, { stream: true });
      }
    } finally {
      out.done = true;
    }
  })();
  return out;
}

/** The messages of the `log` events in an SSE text, in order (the final `end` event left out). */
const messages = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.split('\n').includes('event: log'))
    .map(
      (block) =>
        JSON.parse(
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ).message as string,
    );

describe('log followers share one Redis connection', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem();
  });
  after(() => t.stop());

  const clients = async () =>
    String(await t.redisClient.client('LIST'))
      .trim()
      .split('\n').length;

  it(`gives ${FOLLOWERS} concurrent followers every entry on the connections one follower uses`, async () => {
    await t.call('PUT', '/api/v1/workflows/chatty', {
      script:
        'export default async function (ctx) { ctx.log.info("waiting"); while (!(await ctx.state.get("go"))) await ctx.sleep(20); for (let i = 1; i <= 5; i++) ctx.log.info("line " + i); return "ok" }',
      limits: { timeoutMs: 120_000 },
    });
    const run = (await t.call('POST', '/api/v1/workflows/chatty/runs', {})).body;
    await waitFor(async () => (await t.system.stores.runs.readLog(run.id)).length > 0, { timeoutMs: 30_000, what: 'the run to log' });
    const follow = async () => collect(await t.app.request(`/api/v1/runs/${run.id}/logs?follow=true`));

    const first = await follow();
    await waitFor(() => first.text.includes('waiting'), { what: 'the first follower to get the first entry' });
    const withOne = await clients();

    const rest: Array<ReturnType<typeof collect>> = [];
    for (let i = 1; i < FOLLOWERS; i++) rest.push(await follow());
    const all = [first, ...rest];
    await waitFor(() => all.every((f) => f.text.includes('waiting')), { what: 'every follower to get the first entry' });
    assert.equal(await clients(), withOne, `${FOLLOWERS} followers hold no more Redis connections than one`);

    await t.system.stores.state.set('chatty', 'go', true);
    await waitFor(() => all.every((f) => f.done), { timeoutMs: 30_000, what: 'every follow stream to end with the run' });
    for (const f of all) assert.deepEqual(messages(f.text), ['waiting', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    assert.ok((await clients()) <= withOne, 'and none are left behind');
  });

  it('follows several runs at once, each follower seeing only its own run', async () => {
    await t.call('PUT', '/api/v1/workflows/pair', {
      script:
        'export default async function (ctx) { ctx.log.info("start " + ctx.input.n); while (!(await ctx.state.get("go" + ctx.input.n))) await ctx.sleep(20); ctx.log.info("end " + ctx.input.n); return ctx.input.n }',
      limits: { timeoutMs: 120_000, concurrency: 3 },
    });
    const runs: any[] = [];
    for (const n of [1, 2, 3]) runs.push((await t.call('POST', '/api/v1/workflows/pair/runs', { input: { n } })).body);
    const followers: Array<{ n: number; f: ReturnType<typeof collect> }> = [];
    for (const r of runs)
      for (let i = 0; i < 5; i++) followers.push({ n: r.input.n, f: collect(await t.app.request(`/api/v1/runs/${r.id}/logs?follow=true`)) });
    await waitFor(() => followers.every(({ n, f }) => f.text.includes(`start ${n}`)), { timeoutMs: 30_000, what: 'every follower to see its run start' });
    // A run that ends while the others go on ends only its own followers.
    await t.system.stores.state.set('pair', 'go2', true);
    await waitFor(() => followers.filter(({ n }) => n === 2).every(({ f }) => f.done), { timeoutMs: 30_000, what: "run 2's followers to end" });
    assert.ok(
      followers.filter(({ n }) => n !== 2).every(({ f }) => !f.done),
      "the other runs' followers go on",
    );
    await t.system.stores.state.set('pair', 'go1', true);
    await t.system.stores.state.set('pair', 'go3', true);
    await waitFor(() => followers.every(({ f }) => f.done), { timeoutMs: 30_000, what: 'every follower to end' });
    for (const { n, f } of followers) assert.deepEqual(messages(f.text), [`start ${n}`, `end ${n}`]);
  });
});
