import { matchesSelector, type SelectorTerm } from '../resources.ts';
import type { CommandContext } from '../context.ts';
import { listObjects, schedulerKind, type Obj } from './api.ts';
import { KINDS, ref, SOURCE_ANNOTATION, type Kind } from './kinds.ts';

/** Every object of the five kinds with all the selector's labels: deployments only where the scheduler defines them. */
export async function selectObjects(ctx: CommandContext, selector: SelectorTerm[], kinds: readonly Kind[] = KINDS): Promise<Array<{ kind: Kind; obj: Obj }>> {
  const out: Array<{ kind: Kind; obj: Obj }> = [];
  for (const kind of kinds) {
    if (kind === 'Deployment' && (await schedulerKind(ctx)) !== 'local') continue;
    for (const obj of await listObjects(ctx, kind)) if (matchesSelector(obj.labels as Record<string, string> | undefined, selector)) out.push({ kind, obj });
  }
  return out;
}

/**
 * What `apply --prune` deletes: objects with all the selector's labels that the CLI applied
 * (they carry `veer.io/source`; objects made by hand or by the UI are never pruned) and that no
 * manifest names any more. Dependents first (workflows before the secrets they read).
 */
export async function prunable(ctx: CommandContext, selector: SelectorTerm[], keep: Set<string>): Promise<Array<{ kind: Kind; name: string }>> {
  const found = await selectObjects(ctx, selector);
  return found
    .filter(({ kind, obj }) => {
      const annotations = (obj.annotations ?? {}) as Record<string, string>;
      return SOURCE_ANNOTATION in annotations && !keep.has(ref(kind, String(obj.name)));
    })
    .map(({ kind, obj }) => ({ kind, name: String(obj.name) }))
    .sort((a, b) => KINDS.indexOf(b.kind) - KINDS.indexOf(a.kind) || a.name.localeCompare(b.name));
}
