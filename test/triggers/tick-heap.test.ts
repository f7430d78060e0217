import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTickHeap } from '../../engine/triggers/tick-heap.ts';

/** The cron scheduler's next-tick queue: whatever order ticks are pushed in, they come out earliest first. */
describe('tick heap', () => {
  it('pops entries in time order, interleaved with pushes', () => {
    const heap = createTickHeap<string>();
    // A deterministic shuffle of 0..999 (multiplication by a unit mod 1000).
    for (let i = 0; i < 1000; i++) heap.push(((i * 7919) % 1000) * 10, `t${i}`);
    assert.equal(heap.size, 1000);
    const out: number[] = [];
    for (let i = 0; i < 500; i++) out.push(heap.pop()!.at);
    // Re-queued "next ticks" later than anything popped so far, as the scheduler does.
    for (let i = 0; i < 500; i++) heap.push(10_000 + ((i * 31) % 500), 'again');
    for (let e = heap.pop(); e; e = heap.pop()) out.push(e.at);
    assert.equal(out.length, 1500);
    for (let i = 1; i < out.length; i++) assert.ok(out[i - 1] <= out[i], `out of order at ${i}: ${out[i - 1]} > ${out[i]}`);
    assert.equal(heap.pop(), undefined);
  });

  it('keeps each item with its time, including equal times', () => {
    const heap = createTickHeap<{ name: string }>();
    const a = { name: 'a' };
    const b = { name: 'b' };
    heap.push(5, a);
    heap.push(5, b);
    heap.push(1, b);
    assert.deepEqual(heap.peek(), { at: 1, item: b });
    assert.equal(heap.pop()?.item, b);
    const rest = [heap.pop(), heap.pop()];
    assert.deepEqual(
      rest.map((e) => e?.at),
      [5, 5],
    );
    assert.deepEqual(new Set(rest.map((e) => e?.item.name)), new Set(['a', 'b']));
  });

  it('clear empties it', () => {
    const heap = createTickHeap<number>();
    heap.push(3, 3);
    heap.clear();
    assert.equal(heap.size, 0);
    assert.equal(heap.peek(), undefined);
  });
});
