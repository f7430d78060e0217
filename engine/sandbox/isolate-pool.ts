import type ivm from 'isolated-vm';
import { newIsolate } from './new-isolate.ts';
import { compileBridge } from './bridge-script.ts';
import { prepareContext, type PreparedContext } from './prepared-context.ts';
import type { Spare } from './spare-isolate.ts';

/**
 * Isolates kept between runs of ONE workflow version (same code hash, same memory limit), when
 * the engine turns reuse on (IsolatedSandboxOptions.isolateReuse; off by default, see
 * isolated-host.ts for why). Each run still gets a fresh context — builtins, globals and module
 * scope are per context — and an isolate is used by one run at a time, so its CPU time and heap
 * during a run are that run's. An isolate goes back to the pool only after a run that succeeded
 * with no limit, deadline, cancel or error; it is disposed after `maxRuns` runs, or when its heap
 * (with external memory) is above `maxHeapMb` after a run, or when evicted (at most `maxIdle`).
 */
export interface IsolateReuse {
  maxRuns: number;
  maxHeapMb: number;
}

export interface IsolateLease {
  readonly isolate: ivm.Isolate;
  /** Runs this isolate ran before this one (0: fresh). */
  readonly runsBefore: number;
  /** Whether the isolate is a spare made before the run (spare-isolate.ts): fresh, never run in. */
  readonly spare: boolean;
  /** The run's fresh context with the bridge and helper modules (a spare's was made ahead). */
  prepare(): Promise<PreparedContext>;
  /** Ends the lease: back to the pool when `clean` and within the bounds, otherwise disposed. */
  end(clean: boolean): void;
}

const MB = 1024 * 1024;

interface Idle {
  key: string;
  isolate: ivm.Isolate;
  runs: number;
  bridge?: Promise<ivm.Script>;
}

export interface IsolatePool {
  /** An isolate for one run: an idle one of this key when reuse is on, else a fresh one. */
  lease(key: string | undefined, memoryMb: number, reuse: IsolateReuse | undefined): IsolateLease;
  /** A lease of a spare: one run, then disposed like any fresh isolate. */
  leaseSpare(spare: Spare): IsolateLease;
  idle(): number;
}

export function createIsolatePool(maxIdle: number): IsolatePool {
  /** Idle isolates, oldest first (insertion order); one run's worth of state each. */
  const idle: Idle[] = [];
  const dispose = (isolate: ivm.Isolate) => {
    if (!isolate.isDisposed) isolate.dispose();
  };
  return {
    idle: () => idle.length,
    leaseSpare(spare) {
      let ended = false;
      return {
        isolate: spare.isolate,
        runsBefore: 0,
        spare: true,
        prepare: () => spare.prepared,
        end() {
          if (ended) return;
          ended = true;
          disposeSoon(spare.isolate);
        },
      };
    },
    lease(key, memoryMb, reuse) {
      const poolKey = key === undefined ? undefined : `${key}|${memoryMb}`;
      let held: Idle | undefined;
      if (reuse && poolKey !== undefined) {
        const at = idle.findLastIndex((e) => e.key === poolKey && !e.isolate.isDisposed);
        if (at >= 0) held = idle.splice(at, 1)[0];
      }
      const entry: Idle = held ?? { key: poolKey ?? '', isolate: newIsolate(memoryMb), runs: 0 };
      const runsBefore = entry.runs;
      let ended = false;
      return {
        isolate: entry.isolate,
        runsBefore,
        spare: false,
        prepare: () => prepareContext(entry.isolate, () => (entry.bridge ??= compileBridge(entry.isolate))),
        end(clean) {
          if (ended) return;
          ended = true;
          entry.runs++;
          const keep =
            clean &&
            reuse !== undefined &&
            poolKey !== undefined &&
            !entry.isolate.isDisposed &&
            entry.runs < reuse.maxRuns &&
            heapBytes(entry.isolate) <= reuse.maxHeapMb * MB;
          if (!keep) {
            disposeSoon(entry.isolate);
            return;
          }
          idle.push(entry);
          while (idle.length > maxIdle) dispose(idle.shift()!.isolate);
        },
      };
    },
  };
}

/**
 * Disposes an isolate after the current turn: a run's end is reported first (disposing is
 * ~0.2 ms that no caller waits for). Nothing runs in it meanwhile: the run is over and ignores
 * every later delivery.
 */
function disposeSoon(isolate: ivm.Isolate): void {
  setImmediate(() => {
    if (!isolate.isDisposed) isolate.dispose();
  });
}

/** Heap in use plus memory outside it (array buffers), as isolated-vm counts it against the limit. */
function heapBytes(isolate: ivm.Isolate): number {
  try {
    const s = isolate.getHeapStatisticsSync();
    return s.used_heap_size + s.externally_allocated_size;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
