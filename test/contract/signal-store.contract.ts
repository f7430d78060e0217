import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SIGNAL_INBOX_MAX, type Signal } from '../../engine/domain/signal.ts';
import type { SignalStore } from '../../engine/ports/signal-store.ts';
import { VeerError } from '../../engine/shared/errors.ts';

/**
 * The contract every SignalStore implementation satisfies. What the engine relies on: the
 * inbox is oldest first and keeps that order through take/restore, a taken signal is
 * invisible to every other run until its run settles, a succeeded run's signals are gone,
 * a failed run's come back, and an inbox belongs to an existing workflow only.
 */
export interface SignalStoreContractTarget {
  signals: SignalStore;
  /** Makes a workflow exist (its inbox may then receive signals). */
  createWorkflow(name: string): Promise<void>;
  /** Deletes the workflow the way the API does. */
  deleteWorkflow(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function runSignalStoreContract(name: string, start: () => Promise<SignalStoreContractTarget>): void {
  describe(`SignalStore contract: ${name}`, () => {
    let t: SignalStoreContractTarget;
    before(async () => {
      t = await start();
    });
    after(async () => {
      await t?.stop();
    });

    /** A fresh workflow per test, so tests never share an inbox. */
    async function workflow(): Promise<string> {
      const wf = `wf-${randomBytes(4).toString('hex')}`;
      await t.createWorkflow(wf);
      return wf;
    }
    const send = (wf: string, signalName: string, value: unknown = null) => t.signals.send(wf, { name: signalName, value, sentBy: 'tester' });
    const names = (signals: Signal[]) => signals.map((s) => s.name);

    it('stores a signal with an id, its time and sender, and lists pending ones oldest first', async () => {
      const wf = await workflow();
      const earliest = Date.now();
      const a = await send(wf, 'promote', { step: 2 });
      const b = await send(wf, 'abort');
      assert.ok(a && b);
      assert.equal(a.name, 'promote');
      assert.deepEqual(a.value, { step: 2 });
      assert.equal(a.sentBy, 'tester');
      assert.ok(Date.parse(a.sentAt) >= earliest - 1000);
      assert.notEqual(a.id, b.id);
      assert.match(a.id, /^\d+-[0-9a-z]+$/, '<sequence>-<random>');
      assert.deepEqual(Object.keys(a).sort(), ['id', 'name', 'sentAt', 'sentBy', 'value']);
      assert.deepEqual(await t.signals.pending(wf), [a, b]);
    });

    it('keeps JSON values exactly as sent ({} stays {}, [] stays [], absent is null)', async () => {
      const wf = await workflow();
      const value = { empty: {}, list: [], nested: { a: [{}], b: '"quoted" \\ ünï' }, n: 1.5, t: true, z: null };
      await send(wf, 'promote', value);
      await send(wf, 'promote', []);
      await send(wf, 'promote', {});
      await send(wf, 'abort', undefined);
      assert.deepEqual(
        (await t.signals.pending(wf)).map((s) => s.value),
        [value, [], {}, null],
      );
      assert.deepEqual((await t.signals.take(wf, 'run-1'))?.value, value);
    });

    it('takes the oldest first, by name when asked, and keeps the order across take and restore', async () => {
      const wf = await workflow();
      const s1 = (await send(wf, 'promote'))!;
      const s2 = (await send(wf, 'abort'))!;
      const s3 = (await send(wf, 'promote'))!;
      assert.equal((await t.signals.take(wf, 'run-1', 'abort'))?.id, s2.id);
      assert.equal((await t.signals.take(wf, 'run-1'))?.id, s1.id);
      assert.deepEqual(await t.signals.pending(wf), [s3]);
      assert.equal(await t.signals.take(wf, 'run-1', 'abort'), undefined, 'a taken signal is not taken twice');
      assert.equal(await t.signals.restore(wf, 'run-1'), 2);
      assert.deepEqual(await t.signals.pending(wf), [s1, s2, s3], 'restored at their old places');
      assert.equal((await t.signals.take(wf, 'run-2'))?.id, s1.id);
      assert.equal(await t.signals.take(wf, 'run-2', 'promote-full'), undefined);
    });

    it('forgets what a succeeded run took, and only that', async () => {
      const wf = await workflow();
      const s1 = (await send(wf, 'promote'))!;
      const s2 = (await send(wf, 'promote'))!;
      await t.signals.take(wf, 'run-1');
      await t.signals.take(wf, 'run-2');
      assert.equal(await t.signals.commit(wf, 'run-1'), 1);
      assert.equal(await t.signals.commit(wf, 'run-1'), 0);
      assert.equal(await t.signals.restore(wf, 'run-1'), 0, 'a committed signal cannot come back');
      assert.deepEqual(await t.signals.pending(wf), []);
      assert.equal(await t.signals.restore(wf, 'run-2'), 1);
      assert.deepEqual(await t.signals.pending(wf), [s2]);
      assert.notEqual(s1.id, s2.id);
    });

    it('restores the takes of two runs independently, each at its old place', async () => {
      const wf = await workflow();
      const s1 = (await send(wf, 'promote'))!;
      const s2 = (await send(wf, 'promote'))!;
      const s3 = (await send(wf, 'promote'))!;
      assert.equal((await t.signals.take(wf, 'run-a'))?.id, s1.id);
      assert.equal((await t.signals.take(wf, 'run-b'))?.id, s2.id);
      assert.equal(await t.signals.restore(wf, 'run-b'), 1);
      assert.deepEqual(await t.signals.pending(wf), [s2, s3]);
      assert.equal(await t.signals.restore(wf, 'run-a'), 1);
      assert.deepEqual(await t.signals.pending(wf), [s1, s2, s3]);
    });

    it('peeks without taking, by name, skipping the ids it is told to', async () => {
      const wf = await workflow();
      const s1 = (await send(wf, 'promote'))!;
      const s2 = (await send(wf, 'abort'))!;
      const s3 = (await send(wf, 'promote'))!;
      assert.equal((await t.signals.peek(wf))?.id, s1.id);
      assert.equal((await t.signals.peek(wf, 'abort'))?.id, s2.id);
      assert.equal((await t.signals.peek(wf, 'promote', [s1.id]))?.id, s3.id);
      assert.equal((await t.signals.peek(wf, undefined, [s1.id, s2.id]))?.id, s3.id);
      assert.equal(await t.signals.peek(wf, 'promote', [s1.id, s3.id]), undefined);
      assert.deepEqual(names(await t.signals.pending(wf)), ['promote', 'abort', 'promote'], 'nothing taken');
      await t.signals.take(wf, 'run-1');
      assert.equal((await t.signals.peek(wf))?.id, s2.id, 'a taken signal is not peeked');
    });

    it('hands each signal to one run when runs take at once', async () => {
      const wf = await workflow();
      for (let i = 0; i < 20; i++) await send(wf, 'promote', i);
      const taken = await Promise.all(Array.from({ length: 30 }, (_, i) => t.signals.take(wf, `run-${i}`)));
      const values = taken.filter((s) => s !== undefined).map((s) => s.value);
      assert.equal(values.length, 20);
      assert.equal(new Set(values).size, 20);
    });

    it(`refuses a signal past ${SIGNAL_INBOX_MAX} pending with SIGNAL.INBOX_FULL, and takes one again once there is room`, async () => {
      const wf = await workflow();
      await Promise.all(Array.from({ length: SIGNAL_INBOX_MAX }, (_, i) => send(wf, 'promote', i)));
      await assert.rejects(send(wf, 'promote'), (err: unknown) => err instanceof VeerError && err.code === 'SIGNAL.INBOX_FULL');
      assert.equal((await t.signals.pending(wf)).length, SIGNAL_INBOX_MAX);
      await t.signals.take(wf, 'run-1');
      assert.ok(await send(wf, 'promote'));
    });

    it('stores nothing for a workflow that does not exist', async () => {
      const wf = `missing-${randomBytes(4).toString('hex')}`;
      assert.equal(await send(wf, 'promote'), undefined);
      assert.deepEqual(await t.signals.pending(wf), []);
      assert.equal(await t.signals.take(wf, 'run-1'), undefined);
    });

    it('deletes the inbox with the workflow, taken signals included', async () => {
      const wf = await workflow();
      await send(wf, 'promote');
      await send(wf, 'abort');
      await t.signals.take(wf, 'run-1');
      await t.deleteWorkflow(wf);
      assert.equal(await send(wf, 'promote'), undefined, 'a deleted workflow takes no signal');
      await t.createWorkflow(wf);
      assert.deepEqual(await t.signals.pending(wf), []);
      assert.equal(await t.signals.restore(wf, 'run-1'), 0, 'what the old workflow handed out does not come back');
      assert.deepEqual(await t.signals.pending(wf), []);
      assert.equal((await send(wf, 'promote'))?.name, 'promote');
    });
  });
}
