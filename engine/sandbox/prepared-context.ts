import { randomUUID } from 'node:crypto';
import ivm from 'isolated-vm';
import { helperModules } from './bridge.ts';

/**
 * What every run needs in its isolate before the user's code is looked at: a fresh context, the
 * bridge function evaluated in it (not yet called: the per-run setup and `send` are passed when
 * the run calls it) and the helper modules around the user's module, compiled for this
 * context's hook name. Only engine code runs to make it, and nothing of any run is in it, so it
 * can be made ahead of a run (spare-isolate.ts) as well as at its start.
 */
export interface PreparedContext {
  context: ivm.Context;
  /** The bridge's function, to be called once with (send, setup JSON) for the dispatcher. */
  bridgeFn: ivm.Reference<(...args: unknown[]) => unknown>;
  /** Unguessable per context: the global the first helper module calls once, then deletes. */
  hookKey: string;
  modules: { root: ivm.Module; pre: ivm.Module; post: ivm.Module; after: ivm.Module };
  /** Releases the host's handles (the isolate itself is disposed by whoever owns it). */
  release: () => void;
}

const HELPERS = ['root', 'pre', 'post', 'after'] as const;

export async function prepareContext(isolate: ivm.Isolate, bridge: () => Promise<ivm.Script>): Promise<PreparedContext> {
  // Unguessable: the hook's global name cannot be known before it is gone.
  const hookKey = `__veer_${randomUUID().replaceAll('-', '')}`;
  const helpers = helperModules(hookKey);
  const [context, script, ...compiled] = await Promise.all([
    isolate.createContext(),
    bridge(),
    ...HELPERS.map((name) => isolate.compileModule(helpers[name], { filename: `veer:${name}` })),
  ]);
  const [root, pre, post, after] = compiled;
  const release = () => {
    for (const m of compiled) m.release();
    context.release();
  };
  try {
    const bridgeFn = (await script.run(context, { reference: true })) as ivm.Reference<(...args: unknown[]) => unknown>;
    return {
      context,
      bridgeFn,
      hookKey,
      modules: { root, pre, post, after },
      release: () => {
        bridgeFn.release();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
