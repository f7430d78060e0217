import type { SandboxOutcome } from '../ports/sandbox-host.ts';
import type { ChildExit } from './sandbox-child.ts';

/** Why the pool killed a child; absent when it died by itself or was killed from outside. */
export type KillReason =
  | { kind: 'memory'; rssBytes: number }
  | { kind: 'unresponsive'; silentMs: number }
  /** The child still answered, but this run's isolate did not end when told to stop. */
  | { kind: 'stuck'; runId: number };

/** How a child went, as the pool saw it. */
export interface ProcessLoss {
  exit: ChildExit;
  killed?: KillReason;
  /** Runs the child had when it went. */
  runs: number;
  childMemoryMb: number;
  abortGraceMs: number;
}

/** A run the child had. */
export interface LostRun {
  id: number;
  stopping?: 'cancelled' | 'timeout';
  timeoutMs: number;
  /** The child was forked for this run alone (a suspect re-run): whatever killed it is the run's doing. */
  dedicated: boolean;
}

/**
 * What a run's end means when its process went: `stopped` (it was being stopped anyway: the
 * host reports the stop's reason), `culprit` (it alone can have done it: a final outcome) or
 * `suspect` (the process was shared, so it may have been a bystander: SANDBOX.PROCESS_LOST,
 * which the executor answers by running it again alone, at no cost to its retries).
 */
export type LossVerdict = { kind: 'stopped'; reason: 'cancelled' | 'timeout' } | { kind: 'culprit' | 'suspect'; outcome: SandboxOutcome };

const MB = 1024 * 1024;

/** "was killed by SIGKILL", "exited with code 1", "was killed for using 900 MB, …". */
export function describeLoss(loss: ProcessLoss): string {
  const k = loss.killed;
  if (k?.kind === 'memory') {
    return `was killed for using ${Math.round(k.rssBytes / MB)} MB, over the limit of ${loss.childMemoryMb} MB per sandbox process (VEER_SANDBOX_CHILD_MEMORY_MB)`;
  }
  if (k?.kind === 'unresponsive') return `stopped answering for ${k.silentMs} ms and was killed`;
  if (k?.kind === 'stuck') return `was killed because a run in it did not stop within ${loss.abortGraceMs} ms of being told to`;
  return loss.exit.signal ? `was killed by ${loss.exit.signal}` : `exited with code ${loss.exit.code}`;
}

/**
 * Attribution: a process that ran one run is that run's doing, except a memory kill of a pool
 * process (it keeps what earlier runs grew, so only a process forked for the run proves it);
 * a run that did not stop while its process still answered is the culprit once it does so
 * again in a process of its own (the first time it is a suspect too: trivial scripts were seen
 * stuck once on a loaded machine, the cause not yet found, and a hostile one is stuck again
 * when re-run alone). Everyone else is a suspect, never failed for it.
 */
export function judgeLostRun(loss: ProcessLoss, run: LostRun): LossVerdict {
  const k = loss.killed;
  const how = describeLoss(loss);
  if (run.stopping === 'cancelled') return { kind: 'stopped', reason: 'cancelled' };
  if (k?.kind === 'stuck') return k.runId === run.id && run.dedicated ? culprit('SANDBOX.UNRESPONSIVE', stuckMessage(loss, run)) : suspect(loss, how);
  const alone = run.dedicated || (loss.runs === 1 && k?.kind !== 'memory');
  if (!alone) return suspect(loss, how);
  if (run.stopping === 'timeout' && k?.kind !== 'unresponsive') return { kind: 'stopped', reason: 'timeout' };
  if (k?.kind === 'memory') {
    return culprit(
      'SANDBOX.MEMORY',
      `the script grew its sandbox process to ${Math.round(k.rssBytes / MB)} MB, over the limit of ${loss.childMemoryMb} MB per sandbox process (VEER_SANDBOX_CHILD_MEMORY_MB; memory outside the isolate heap counts too: Intl objects, buffers, strings); the process was killed and replaced. Make the script hold less, or have the operator raise VEER_SANDBOX_CHILD_MEMORY_MB`,
    );
  }
  if (k?.kind === 'unresponsive') {
    return culprit(
      'SANDBOX.UNRESPONSIVE',
      `the sandbox process running this script stopped answering for ${k.silentMs} ms (VEER_SANDBOX_UNRESPONSIVE_MS) and was killed and replaced`,
    );
  }
  const hint = /memory|allocation|invalid (array|string|size)/i.test(loss.exit.stderr) ? ' after running out of memory' : '';
  return culprit(
    'SANDBOX.CRASHED',
    `the sandbox process running this script ${how}${hint}; the script may have made a huge allocation (e.g. new Array(1e9).fill(0)). The process was replaced`,
  );
}

function stuckMessage(loss: ProcessLoss, run: LostRun): string {
  const when = run.stopping === 'timeout' ? `when it passed its deadline of ${run.timeoutMs} ms (limits.timeoutMs)` : 'when told to';
  return `the script did not stop ${when}: its isolate kept running (e.g. inside an error's looping message or stack getter), so its sandbox process was killed ${loss.abortGraceMs} ms later and replaced`;
}

const culprit = (code: string, message: string): LossVerdict => ({ kind: 'culprit', outcome: { status: 'failed', error: { code, message } } });

function suspect(loss: ProcessLoss, how: string): LossVerdict {
  const others = loss.runs - 1;
  const shared = others > 0 ? `this run shared with ${others} other run${others === 1 ? '' : 's'}` : 'this run was in (it keeps what earlier runs grew)';
  return {
    kind: 'suspect',
    outcome: {
      status: 'failed',
      error: {
        code: 'SANDBOX.PROCESS_LOST',
        message: `the sandbox process ${shared} ${how}; this run may only have been a bystander. Run again, it gets a fresh sandbox process of its own`,
      },
    },
  };
}
