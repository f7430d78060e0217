import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunLauncher } from '../../engine/runs/launcher.ts';

/**
 * The RunLauncher contract (engine/runs/launcher.ts): what the API, cron and event triggers
 * rely on when they start a run. The fake the trigger tests use (test/events/fakes.ts) runs
 * it beside the real launcher, so "dedupes like the real one" is checked, not claimed.
 * Overlap and disabled workflows are left out on purpose: the fake does not model workflow
 * settings (its users need none); the real launcher's tests cover them.
 */
export interface RunLauncherHarness {
  /** A launcher on a fresh namespace in which `workflows` exist, enabled, with `overlap: 'allow'`. */
  create(workflows: string[]): Promise<RunLauncher>;
  /** Stops what `create` needed; called once after all tests. */
  teardown(): Promise<void>;
}

export function runRunLauncherContract(name: string, harness: () => Promise<RunLauncherHarness>): void {
  describe(`RunLauncher contract: ${name}`, () => {
    let h: RunLauncherHarness;
    before(async () => {
      h = await harness();
    });
    after(async () => {
      await h?.teardown();
    });

    it('start queues a run carrying the workflow, trigger and input', async () => {
      const launcher = await h.create(['hello']);
      const result = await launcher.start('hello', { trigger: { type: 'manual' }, input: { canary: 'v2' } });
      assert.ok(result.started, JSON.stringify(result));
      const { run } = result;
      assert.equal(typeof run.id, 'string');
      assert.deepEqual([run.workflow, run.status, run.attempts, run.input], ['hello', 'queued', 0, { canary: 'v2' }]);
      assert.deepEqual(run.trigger, { type: 'manual' });
      assert.ok(!Number.isNaN(Date.parse(run.queuedAt)), run.queuedAt);
      const noInput = await launcher.start('hello', { trigger: { type: 'manual' } });
      assert.ok(noInput.started);
      assert.equal(noInput.run.input, null, 'no input is null, not undefined');
    });

    it('without a dedupe key every call starts its own run', async () => {
      const launcher = await h.create(['free']);
      const a = await launcher.start('free', { trigger: { type: 'manual' } });
      const b = await launcher.start('free', { trigger: { type: 'manual' } });
      assert.ok(a.started && b.started);
      assert.notEqual(a.run.id, b.run.id);
    });

    it('a dedupe key starts at most one run per workflow; the duplicate names the run that won', async () => {
      const launcher = await h.create(['ticker', 'other']);
      const tick = { type: 'cron', tick: '2026-01-01T10:00:00.000Z' } as const;
      const first = await launcher.start('ticker', { trigger: tick, dedupeKey: `cron:${tick.tick}` });
      assert.ok(first.started);
      assert.deepEqual(await launcher.start('ticker', { trigger: tick, dedupeKey: `cron:${tick.tick}` }), {
        started: false,
        reason: 'duplicate',
        runId: first.run.id,
      });
      assert.equal((await launcher.start('other', { trigger: tick, dedupeKey: `cron:${tick.tick}` })).started, true, 'keys are per workflow');
      assert.equal((await launcher.start('ticker', { trigger: tick, dedupeKey: 'cron:next' })).started, true);
    });

    it('concurrent starts with one dedupe key start exactly one run', async () => {
      const launcher = await h.create(['racy']);
      const results = await Promise.all(Array.from({ length: 5 }, () => launcher.start('racy', { trigger: { type: 'manual' }, dedupeKey: 'event:1' })));
      const started = results.filter((r) => r.started);
      assert.equal(started.length, 1);
      for (const r of results) if (!r.started) assert.deepEqual(r, { started: false, reason: 'duplicate', runId: started[0].started ? started[0].run.id : '' });
    });
  });
}
