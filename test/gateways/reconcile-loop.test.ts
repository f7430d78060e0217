import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createReconcileLoop } from '../../adapters/gateway-agent/reconcile-loop.ts';
import { silentLogger } from '../../engine/shared/logger.ts';

/** Single-flight reconcile without HAProxy: passes never overlap, a burst costs one extra pass. */

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

test('requests during a pass cause exactly one more pass, never an overlapping one', async () => {
  let running = 0;
  let passes = 0;
  let maxRunning = 0;
  const first = gate();
  const loop = createReconcileLoop(
    async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      passes++;
      if (passes === 1) await first.opened;
      running--;
    },
    { stopped: () => false, log: silentLogger() },
  );
  loop.schedule();
  loop.schedule();
  loop.schedule();
  first.open();
  await loop.idle();
  assert.equal(passes, 2);
  assert.equal(maxRunning, 1);
});

test('a failing pass is logged and the loop stays usable', async () => {
  const errors: unknown[] = [];
  const log = { ...silentLogger(), error: (fields: object) => void errors.push(fields) } as ReturnType<typeof silentLogger>;
  let passes = 0;
  const loop = createReconcileLoop(
    async () => {
      passes++;
      if (passes === 1) throw new Error('boom');
    },
    { stopped: () => false, log },
  );
  loop.schedule();
  await loop.idle();
  loop.schedule();
  await loop.idle();
  assert.equal(passes, 2);
  assert.equal(errors.length, 1);
});

test('once stopped, pending requests are dropped and idle() returns', async () => {
  let stopped = false;
  let passes = 0;
  const first = gate();
  const loop = createReconcileLoop(
    async () => {
      passes++;
      await first.opened;
    },
    { stopped: () => stopped, log: silentLogger() },
  );
  loop.schedule();
  loop.schedule();
  stopped = true;
  first.open();
  await loop.settled();
  await loop.idle();
  assert.equal(passes, 1);
});
