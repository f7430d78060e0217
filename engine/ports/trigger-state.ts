import type { Lease } from './coordination.ts';

/**
 * What the triggers remember between ticks, restarts and fail-overs: the last fired cron
 * tick per workflow, the event dispatcher's position in the event store, the Elasticsearch
 * query triggers' window and the documents they already delivered, and the last event id
 * received from each remote stream. Writes that only a leader may make take its `lease`
 * and are refused (false) once the lease is someone else's.
 *
 * Errors: `<STORE>.UNAVAILABLE` (retryable) when the backing store cannot be reached.
 */
export interface EsQueryCheckpoint {
  /** Documents before this time (epoch ms) are ignored: the trigger was (re)configured then. */
  floor: number;
  /** Upper end of the last polled window (epoch ms). */
  watermark: number;
  /** Fingerprint of index + query + field; a different one means "reconfigured". */
  fingerprint: string;
}

export interface TriggerState {
  cron: {
    /** The last fired tick of `workflow` (epoch ms), or undefined if none was ever recorded. */
    lastTick(workflow: string): Promise<number | undefined>;
    /** Records `tickMs` unless a later tick is already recorded. */
    recordTick(workflow: string, tickMs: number): Promise<void>;
    /** Records `tickMs` only if nothing is recorded yet (a workflow seen for the first time). */
    initTick(workflow: string, tickMs: number): Promise<void>;
  };
  dispatcher: {
    /** The event-store checkpoint the dispatcher resumes from, if any. */
    checkpoint(): Promise<string | undefined>;
    /** Sets the checkpoint only if none exists (the very first dispatcher starts at "now"). */
    initCheckpoint(checkpoint: string): Promise<void>;
    /** Moves the checkpoint, only while `lease` is held; false when it is not. */
    saveCheckpoint(checkpoint: string, lease: Lease): Promise<boolean>;
  };
  esQuery: {
    checkpoint(workflow: string): Promise<EsQueryCheckpoint | undefined>;
    /** Starts over: forgets the seen documents and stores `checkpoint`. */
    reset(workflow: string, checkpoint: EsQueryCheckpoint): Promise<void>;
    /** Stores `checkpoint` only while `lease` is held; false when it is not. */
    saveCheckpoint(workflow: string, checkpoint: EsQueryCheckpoint, lease: Lease): Promise<boolean>;
    /** How many delivered documents have a time at or after `sinceMs`. */
    seenCount(workflow: string, sinceMs: number): Promise<number>;
    /** For each document id, whether it was delivered before. */
    seen(workflow: string, ids: string[]): Promise<boolean[]>;
    /** Remembers delivered documents with their time (epoch ms). */
    markSeen(workflow: string, docs: Array<{ id: string; time: number }>): Promise<void>;
    /** Forgets delivered documents older than `beforeMs` (outside every future window). */
    forgetSeenBefore(workflow: string, beforeMs: number): Promise<void>;
  };
  remote: {
    /** The last event id received from the stream at `url`, to resume with `Last-Event-ID`. */
    lastEventId(url: string): Promise<string | undefined>;
    saveLastEventId(url: string, id: string): Promise<void>;
  };
}
