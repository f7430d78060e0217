import type { BudgetCounter, Capabilities, RunScope } from '../ports/sandbox-host.ts';
import { withCausedHops } from '../events/causation.ts';
import { ValidationError, type Issue } from '../shared/errors.ts';
import { methodSpec, type MethodSpec } from './capability-schemas.ts';
import { HostArgError, parseHostArgs } from './host-args.ts';

/** What goes back to the child for one host call (the `host-result` message, less its ids). */
export type HostCallReply = { ok: true; json: string | undefined } | { ok: false; message: string; code: string | undefined };

export interface HostCall {
  capabilities: Capabilities;
  scope: RunScope;
  capability: string;
  method: string;
  /** The arguments exactly as the child sent them: JSON text made inside the isolate. */
  argsJson: string;
}

/** Paths are built from user keys: shown in messages only this long. */
const MAX_PATH_CHARS = 200;

/**
 * The one door from a script into the engine: every `ctx.<capability>.<method>(…)` of every
 * run passes here, in the host, before any capability code runs. In order:
 *   1. the run's budget counts the call (in total and in flight, so a flood of un-awaited
 *      calls is refused instead of queued);
 *   2. the arguments are parsed from the child's JSON into bounded, null-prototype plain data
 *      with no `__proto__`/`constructor`/`prototype` keys (host-args.ts);
 *   3. a contract method's arguments are checked against its schema (capability-schemas.ts);
 *   4. the capability runs with only that data; what it returns is encoded here and counted.
 * A refusal is a VALIDATION error naming the method, the argument and the path inside it
 * (`gateways.setWeights: argument 2 (weights): key "__proto__" is not allowed`); a budget
 * overrun a BUDGET.* error (and the run's budget stops the run). This function never throws.
 */
export async function dispatchHostCall(call: HostCall): Promise<HostCallReply> {
  const { capabilities, scope, capability, method } = call;
  const cap = Object.hasOwn(capabilities, capability) ? capabilities[capability] : undefined;
  const fn = cap && Object.hasOwn(cap, method) ? cap[method] : undefined;
  let endCall: (() => void) | undefined;
  try {
    if (typeof fn !== 'function') return { ok: false, message: `ctx.${capability}.${method} is not available to this run`, code: 'SANDBOX.NO_SUCH_CAPABILITY' };
    endCall = scope.budget?.startCall();
    const spec = methodSpec(capability, method);
    const args = parseArguments(capability, method, call.argsJson, spec);
    for (const [counter, amount] of Object.entries(spec?.costs ?? {})) scope.budget?.consume(counter as BudgetCounter, amount);
    const value = await withCausedHops(scope.hops, () => fn(scope, ...args));
    if (spec?.resultCost) scope.budget?.consume(spec.resultCost.counter, spec.resultCost.of(value));
    const json = value === undefined ? undefined : JSON.stringify(value);
    if (json !== undefined) scope.budget?.consume('bytesReturned', Buffer.byteLength(json));
    return { ok: true, json };
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown };
    return {
      ok: false,
      message: typeof e?.message === 'string' ? e.message : String(err),
      code: typeof e?.code === 'string' ? e.code : undefined,
    };
  } finally {
    endCall?.();
  }
}

/** Generic parse, then the method's schema; trailing absent optional arguments are dropped. */
function parseArguments(capability: string, method: string, json: string, spec: MethodSpec | undefined): unknown[] {
  const where = `${capability}.${method}`;
  let args: unknown[];
  try {
    args = parseHostArgs(json);
  } catch (err) {
    if (!(err instanceof HostArgError)) throw err;
    throw refusal(where, err.index, spec, err.issue);
  }
  if (!spec) return args;
  const specs = spec.args;
  // JSON turns `undefined` arguments into null: trailing nulls are arguments not given.
  while (args.length > 0 && args[args.length - 1] === null && (args.length > specs.length || specs[args.length - 1].optional)) args.pop();
  if (args.length > specs.length) {
    const takes =
      specs.length === 0
        ? 'takes no arguments'
        : `takes at most ${specs.length} argument${specs.length === 1 ? '' : 's'} (${specs.map((s) => s.name).join(', ')})`;
    throw new ValidationError(`${where}: ${takes}, got ${args.length}`, [{ path: `argument ${specs.length + 1}`, message: 'unexpected argument' }]);
  }
  specs.forEach((s, i) => {
    const value = args[i];
    if (value === undefined || (value === null && s.optional)) {
      if (!s.optional) throw refusal(where, i, spec, { path: '', message: `required (${s.schema.expected})` });
      args[i] = undefined;
      return;
    }
    const found = s.schema.check(value, '');
    if (found) throw refusal(where, i, spec, found);
  });
  return args;
}

/** `gateways.setWeights: argument 2 (weights.v1): expected a number, got string`. */
function refusal(where: string, index: number, spec: MethodSpec | undefined, issue: Issue): ValidationError {
  if (index < 0) return new ValidationError(`${where}: ${issue.message}`, [{ path: 'arguments', message: issue.message }]);
  const argName = spec?.args[index]?.name;
  // Without a contract name the path inside the argument is all there is to show (`[2].x`).
  const full = argName === undefined ? issue.path.replace(/^\./, '') : argName + issue.path;
  const shown = full.length > MAX_PATH_CHARS ? `${full.slice(0, MAX_PATH_CHARS)}…` : full;
  const label = shown === '' ? `argument ${index + 1}` : `argument ${index + 1} (${shown})`;
  return new ValidationError(`${where}: ${label}: ${issue.message}`, [{ path: shown || `argument ${index + 1}`, message: issue.message }]);
}
