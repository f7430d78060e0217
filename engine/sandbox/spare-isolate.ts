import type ivm from 'isolated-vm';
import { compileBridge } from './bridge-script.ts';
import { newIsolate } from './new-isolate.ts';
import { prepareContext, type PreparedContext } from './prepared-context.ts';

/**
 * One fresh isolate made ahead of the next run while the child has nothing else to do, with its
 * context, bridge and helper modules ready (creating them was ~2.3 ms of a 3.4 ms trivial run).
 * It is not reuse: no run has ever executed in a spare, it is handed to exactly one run (taken
 * synchronously, so two runs can never hold it) and disposed with that run like any fresh
 * isolate. The heap it starts with is the same whatever ran before in this process: only the
 * engine's own set-up ever ran in it.
 */
export interface Spare {
  readonly isolate: ivm.Isolate;
  readonly memoryMb: number;
  /** Settles once the context is made; rejects if making it failed (the isolate is then disposed). */
  readonly prepared: Promise<PreparedContext>;
}

export interface SpareIsolates {
  /** The spare, when there is one for this memory limit; it is no longer the holder's afterwards. */
  take(memoryMb: number): Spare | undefined;
  /** Makes a spare for `memoryMb` unless there is one (one of another limit is replaced). */
  warm(memoryMb: number): void;
  /** Disposes the spare and makes no more (the process is being retired or shut down). */
  close(): void;
  /** Whether a spare is held (for tests and the child's own bookkeeping). */
  held(): boolean;
}

export function createSpareIsolates(): SpareIsolates {
  let spare: Spare | undefined;
  let closed = false;

  const discard = (s: Spare) => {
    void s.prepared.then(
      (p) => p.release(),
      () => {},
    );
    if (!s.isolate.isDisposed) s.isolate.dispose();
  };

  return {
    take(memoryMb) {
      if (!spare || spare.memoryMb !== memoryMb || spare.isolate.isDisposed) return undefined;
      const taken = spare;
      spare = undefined;
      return taken;
    },
    warm(memoryMb) {
      if (closed) return;
      if (spare && spare.memoryMb === memoryMb && !spare.isolate.isDisposed) return;
      if (spare) discard(spare);
      const isolate = newIsolate(memoryMb);
      let bridge: Promise<ivm.Script> | undefined;
      const prepared = prepareContext(isolate, () => (bridge ??= compileBridge(isolate)));
      const made: Spare = { isolate, memoryMb, prepared };
      // A spare that could not be made is dropped: the next run then makes its own, as without spares.
      prepared.catch(() => {
        if (spare === made) spare = undefined;
        if (!isolate.isDisposed) isolate.dispose();
      });
      spare = made;
    },
    close() {
      closed = true;
      if (spare) discard(spare);
      spare = undefined;
    },
    held: () => spare !== undefined,
  };
}
