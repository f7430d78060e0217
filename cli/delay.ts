import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`, rejecting with the signal's reason when it aborts first (watch intervals, reconnect backoff). */
export const delay = (ms: number, signal?: AbortSignal): Promise<void> => sleep(ms, undefined, { signal });
