import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeLostRun, type KillReason, type LossVerdict, type ProcessLoss } from '../../engine/sandbox/process-loss.ts';

/**
 * Issue 9, class 5: who is blamed when a sandbox process goes. Only a run that can have done
 * it alone gets a final outcome; every run that shared the process is a suspect
 * (SANDBOX.PROCESS_LOST), which the executor re-runs alone for free. The whole path through
 * the API is in sandbox-process-memory, -supervision and quarantine-*.
 */
const exit = (signal: NodeJS.Signals | null = 'SIGKILL', stderr = '') => ({ code: null, signal, stderr, wasReady: true });
const loss = (runs: number, killed?: KillReason, stderr = ''): ProcessLoss => ({
  exit: exit(killed ? 'SIGKILL' : 'SIGABRT', stderr),
  killed,
  runs,
  childMemoryMb: 300,
  abortGraceMs: 1000,
});
const run = (over: Partial<{ id: number; stopping: 'cancelled' | 'timeout'; dedicated: boolean }> = {}) => ({
  id: 1,
  timeoutMs: 5000,
  dedicated: false,
  ...over,
});
const code = (v: LossVerdict) =>
  v.kind === 'stopped' ? `stopped:${v.reason}` : v.outcome.status === 'succeeded' ? 'succeeded' : `${v.kind}:${v.outcome.error.code}`;

describe('crash attribution', () => {
  it('blames a run alone in its process for a crash, and suspects every run of a shared one', () => {
    assert.equal(code(judgeLostRun(loss(1, undefined, 'Fatal JavaScript invalid size error'), run())), 'culprit:SANDBOX.CRASHED');
    assert.equal(code(judgeLostRun(loss(3), run())), 'suspect:SANDBOX.PROCESS_LOST');
    assert.equal(code(judgeLostRun(loss(3), run({ dedicated: true }))), 'culprit:SANDBOX.CRASHED');
  });

  it('blames a memory kill only on a run with a process of its own (a pool process keeps what earlier runs grew)', () => {
    const memory: KillReason = { kind: 'memory', rssBytes: 400 * 1024 * 1024 };
    assert.equal(code(judgeLostRun(loss(1, memory), run())), 'suspect:SANDBOX.PROCESS_LOST');
    const v = judgeLostRun(loss(1, memory), run({ dedicated: true }));
    assert.equal(code(v), 'culprit:SANDBOX.MEMORY');
    assert.ok(v.kind === 'culprit' && v.outcome.status === 'failed');
    if (v.kind === 'culprit' && v.outcome.status === 'failed') {
      assert.match(v.outcome.error.message, /400 MB, over the limit of 300 MB per sandbox process \(VEER_SANDBOX_CHILD_MEMORY_MB/);
    }
  });

  it('blames the run that did not stop while its process still answered once it does so again in a process of its own', () => {
    const stuck: KillReason = { kind: 'stuck', runId: 7 };
    // Stuck once in a shared process: re-run alone first (a suspect); stuck again alone: the culprit.
    assert.equal(code(judgeLostRun(loss(3, stuck), run({ id: 7, stopping: 'timeout' }))), 'suspect:SANDBOX.PROCESS_LOST');
    assert.equal(code(judgeLostRun(loss(1, stuck), run({ id: 7, stopping: 'timeout' }))), 'suspect:SANDBOX.PROCESS_LOST');
    const v = judgeLostRun(loss(1, stuck), run({ id: 7, stopping: 'timeout', dedicated: true }));
    assert.equal(code(v), 'culprit:SANDBOX.UNRESPONSIVE');
    if (v.kind === 'culprit' && v.outcome.status === 'failed') assert.match(v.outcome.error.message, /did not stop when it passed its deadline of 5000 ms/);
    assert.equal(code(judgeLostRun(loss(3, stuck), run({ id: 8 }))), 'suspect:SANDBOX.PROCESS_LOST');
    assert.equal(code(judgeLostRun(loss(3, stuck), run({ id: 7, stopping: 'cancelled' }))), 'stopped:cancelled');
  });

  it('suspects everyone in a shared process that stopped answering, even a run being timed out', () => {
    const silent: KillReason = { kind: 'unresponsive', silentMs: 12_000 };
    assert.equal(code(judgeLostRun(loss(2, silent), run({ stopping: 'timeout' }))), 'suspect:SANDBOX.PROCESS_LOST');
    assert.equal(code(judgeLostRun(loss(1, silent), run({ stopping: 'timeout' }))), 'culprit:SANDBOX.UNRESPONSIVE');
    assert.equal(code(judgeLostRun(loss(1, silent), run())), 'culprit:SANDBOX.UNRESPONSIVE');
  });
});
