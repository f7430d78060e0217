import type { Deployment } from '../../engine/ports/scheduler.ts';
import { timeout } from '../../engine/domain/deployments/errors.ts';
import { delay } from '../../engine/shared/wait.ts';

export interface PollReadyOptions {
  driver: string;
  name: string;
  where?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  intervalMs: number;
  read: () => Promise<Deployment>;
  /** Extra readiness condition beyond `status === 'ready'` (e.g. Marathon: no deployment running). */
  isReady?: (d: Deployment) => boolean | Promise<boolean>;
}

/**
 * Polls until ready. Drivers poll rather than watch: one cheap read per interval works
 * through every proxy (Rancher) and needs no long-lived connection per waiting script.
 */
export async function pollUntilReady(o: PollReadyOptions): Promise<Deployment> {
  const deadline = Date.now() + o.timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    o.signal?.throwIfAborted();
    const d = await o.read();
    if (d.status === 'ready' && (!o.isReady || (await o.isReady(d)))) return d;
    last = `${d.status}, ${d.readyInstances}/${d.desiredInstances} ready`;
    const left = deadline - Date.now();
    if (left <= 0) throw timeout({ driver: o.driver, deployment: o.name, where: o.where }, o.timeoutMs, last);
    await delay(Math.min(o.intervalMs, left), o.signal);
  }
}
