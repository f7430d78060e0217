import type { DryRunEffect } from '../domain/run.ts';
import type { RunScope } from '../sandbox/capabilities.ts';

/** Notes one effect a dry run would have had (and says so in the run log). */
export type RecordEffect = (scope: RunScope, effect: DryRunEffect) => void;

/**
 * Effects one dry run lists in its result. A script looping over setWeights could otherwise
 * grow the result past any size the run store takes; past the cap the run goes on, later
 * effects are left out of the result, and the run log says so.
 */
export const DRY_RUN_MAX_EFFECTS = 1000;

export function effectRecorder(): { record: RecordEffect; effects: DryRunEffect[] } {
  const effects: DryRunEffect[] = [];
  let warned = false;
  const record: RecordEffect = (scope, effect) => {
    // JSON copies: the overlay keeps the objects, and a later planned change must not rewrite an earlier effect.
    const copy = JSON.parse(JSON.stringify({ ...effect, before: effect.before ?? null, after: effect.after ?? null })) as DryRunEffect;
    if (effects.length < DRY_RUN_MAX_EFFECTS) {
      effects.push(copy);
      scope.log('info', `dry run: ${effect.capability} ${effect.target} recorded, not applied`, { before: copy.before, after: copy.after });
      return;
    }
    if (warned) return;
    warned = true;
    scope.log('warn', `dry run: more than ${DRY_RUN_MAX_EFFECTS} effects; later ones are not listed in the result`);
  };
  return { record, effects };
}
