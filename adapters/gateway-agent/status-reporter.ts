import type { KvStore } from '../../engine/ports/kv-store.ts';
import { agentKey, type AgentStatus } from '../../engine/domain/gateways/keys.ts';

export interface StatusReporterOptions {
  kv: KvStore;
  agentId: string;
  heartbeatMs: number;
  /** Builds the status to write (called just before each write). */
  snapshot: () => Promise<AgentStatus>;
  /** Whether the write reached the store; the agent's KV health follows it. */
  onResult: (ok: boolean, error?: unknown) => void;
}

export interface StatusReporter {
  /** Writes `agents/<id>` now; writes are serialised so an older status never lands last. */
  report(): Promise<void>;
  /** Waits for writes in flight, then removes the key (bounded to 1 s: the store may be gone). */
  remove(): Promise<void>;
}

/**
 * The agent's heartbeat in the KV store: `agents/<id>` with what it applied, rewritten every
 * heartbeat and after every change, with a TTL of three heartbeats where the store has TTLs
 * (elsewhere readers judge staleness by `heartbeatAt`).
 */
export function createStatusReporter(o: StatusReporterOptions): StatusReporter {
  let chain: Promise<void> = Promise.resolve();
  let removed = false;
  const ttl = o.kv.capabilities.ttl ? { ttlSeconds: Math.max(1, Math.ceil((o.heartbeatMs * 3) / 1000)) } : {};
  return {
    report() {
      chain = chain.then(async () => {
        if (removed) return;
        try {
          await o.kv.put(agentKey(o.agentId), JSON.stringify(await o.snapshot()), ttl);
          o.onResult(true);
        } catch (err) {
          o.onResult(false, err);
        }
      });
      return chain;
    },
    async remove() {
      removed = true;
      await chain;
      await Promise.race([o.kv.delete(agentKey(o.agentId)).catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    },
  };
}
