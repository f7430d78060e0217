import type { Lease } from '../../../engine/ports/coordination.ts';
import { delay } from '../../../engine/shared/wait.ts';
import { healthy, type AdoptedProcess, type Instance } from './instance.ts';
import { isSameInstanceProcess, runsInstance } from './process-identity.ts';
import type { ObservedInstance, ObservedRecord } from './state.ts';

/**
 * How leadership of local deployments passes between supervisors without restarting the
 * processes: the holder keeps its lease through an outage that outlived the key, a successor
 * adopts the instances its predecessor left running, and a supervisor that lost the lease to
 * another hands its instances over instead of killing them. A restarted instance is a burst of
 * 503s at every gateway routing to it, so stopping one is the last resort.
 */

/**
 * The supervisor's lease (adapters/redis/lease.ts) with one difference: a renewal that finds
 * the key gone (it expired while Redis was unreachable, or Redis came back empty) takes it
 * again. Only a lease held by someone else ends leadership; once it has, renewals (which go on
 * while the instances are handed over) stay refused until the leader loop acquires it anew.
 * So do they after `release()`: a supervisor shutting down frees the lease for a standby and
 * must not take it back while it waits for that standby to adopt its instances.
 */
export function keepUnlessTaken(lease: Lease): Lease {
  let taken = false;
  return {
    name: lease.name,
    token: lease.token,
    async acquire() {
      const ok = await lease.acquire();
      if (ok) taken = false;
      return ok;
    },
    async renew() {
      if (taken) return false;
      if (await lease.renew()) return true;
      // Checked again: a release() made while the renewal was in flight must not be undone.
      if (!taken && (await lease.acquire())) return true;
      taken = true;
      return false;
    },
    release() {
      taken = true;
      return lease.release();
    },
  };
}

/**
 * Sorts the instances a predecessor recorded: those still running as the same process with
 * their port answering are to adopt (`adopt` set); the other processes of ours (draining, or
 * not answering) are to stop.
 */
export async function sortInheritance(
  record: ObservedRecord,
  health: { path: string | undefined; timeoutMs: number },
): Promise<Array<{ instance: ObservedInstance; adopt?: AdoptedProcess }>> {
  const out: Array<{ instance: ObservedInstance; adopt?: AdoptedProcess }> = [];
  for (const i of record.instances) {
    // A pid that is not (or no longer) this instance's process is never touched.
    if (!i.pid || !runsInstance(i.pid, i.id)) continue;
    const same = i.state !== 'draining' && isSameInstanceProcess(i.pid, i.id, i.procStart);
    if (!same || !(await healthy(i.port, undefined, health.timeoutMs))) {
      out.push({ instance: i });
      continue;
    }
    const ready = await healthy(i.port, health.path, health.timeoutMs);
    out.push({ instance: i, adopt: { pid: i.pid, procStart: i.procStart!, port: i.port, ready, restarts: i.restarts, startedAt: i.startedAt } });
  }
  return out;
}

/**
 * After losing the lease to another supervisor: releases every instance the successor lists
 * as its own (it adopted them), and stops the rest once `timeoutMs` passed (a successor on
 * another host cannot adopt them). `read` returns the current observed record of a deployment.
 */
export async function handOver(o: {
  self: string;
  instances: Map<string, Instance[]>;
  read: (name: string) => Promise<ObservedRecord | undefined>;
  timeoutMs: number;
  pollMs: number;
}): Promise<{ released: number; stopped: number }> {
  const pending = new Map([...o.instances].map(([name, list]) => [name, [...list]]));
  const deadline = Date.now() + o.timeoutMs;
  let released = 0;
  while (pending.size && Date.now() < deadline) {
    for (const [name, list] of pending) {
      const record = await o.read(name).catch(() => undefined);
      if (!record?.supervisor || record.supervisor === o.self) continue;
      const theirs = new Set(record.instances.map((i) => i.id));
      const left = list.filter((i) => !theirs.has(i.id) || (i.release(), released++, false));
      if (left.length) pending.set(name, left);
      else pending.delete(name);
    }
    if (pending.size) await delay(o.pollMs);
  }
  const rest = [...pending.values()].flat();
  await Promise.all(rest.map((i) => i.drain({ drainMs: 0 })));
  return { released, stopped: rest.length };
}
