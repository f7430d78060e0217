import type { AuditEntryInput, AuditLog } from '../ports/audit-log.ts';
import type { HostFunction } from '../ports/sandbox-host.ts';
import type { Capabilities, RunScope } from '../sandbox/capabilities.ts';
import type { Logger } from '../shared/logger.ts';
import { beforeAfter, collectEffects } from './effects.ts';

/**
 * Script effects in the audit stream, recorded in one place: every capability method is
 * wrapped, and each call of one that changes something outside the run is appended with
 * actor `workflow/<name>/<runId>`, the method, the resource named by its first argument, the
 * outcome, and before → after from the change events it caused (engine/audit/effects.ts).
 *
 * Methods are audited unless listed here as not being effects, so a capability method added
 * later is recorded until someone decides otherwise.
 */
const NOT_EFFECTS: Record<string, readonly string[]> = {
  // Reads.
  gateways: ['list', 'get'],
  deployments: ['list', 'get', 'waitReady'],
  metrics: ['gateway', 'prometheus'],
  // `emit` lands in the event store itself, with its source; auditing each would let one run
  // flood the bounded audit stream and push real changes out of it.
  events: ['query', 'emit'],
  // The workflow's own data, not infrastructure.
  state: ['get', 'set', 'delete'],
  // The workflow's own inbox; the signal was audited when it was posted.
  signals: ['take'],
};

/** Refused or failed calls recorded per run (successful changes are always recorded): a loop of refusals cannot flood the stream. */
const MAX_UNSUCCESSFUL_PER_RUN = 20;
const RUNS_TRACKED = 10_000;
const MAX_NAME = 100;

export interface AuditedCapabilitiesOptions {
  audit: AuditLog;
  logger: Logger;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}

export function auditCapabilities<C extends Capabilities>(capabilities: C, o: AuditedCapabilitiesOptions): C {
  const unsuccessful = new Map<string, number>();
  const mayRecordUnsuccessful = (runId: string) => {
    const n = unsuccessful.get(runId) ?? 0;
    if (n >= MAX_UNSUCCESSFUL_PER_RUN) return false;
    // Oldest run first out: a Map iterates in insertion order.
    if (!unsuccessful.has(runId) && unsuccessful.size >= RUNS_TRACKED) unsuccessful.delete(unsuccessful.keys().next().value as string);
    unsuccessful.set(runId, n + 1);
    return true;
  };
  const record = async (entry: AuditEntryInput) => {
    try {
      await o.audit.append(entry);
    } catch (err) {
      // The change already happened (or was refused); failing the call would make the script retry it.
      o.logger.warn({ err, entry }, 'audit entry not recorded');
    }
  };

  const wrap = (capability: string, method: string, fn: HostFunction): HostFunction => {
    return async (scope: RunScope, ...args: unknown[]) => {
      const { effects, result } = await collectEffects(() => fn(scope, ...args));
      const ok = result.status === 'fulfilled';
      if (ok || mayRecordUnsuccessful(scope.runId)) {
        // A URL may carry a secret in its path (a Slack hook): redacted, and without its query string.
        const first = typeof args[0] === 'string' ? (scope.secrets?.redact(args[0]) ?? args[0]) : undefined;
        const name = first === undefined ? '(none)' : (capability === 'http' ? first.split(/[?#]/)[0] : first).slice(0, MAX_NAME);
        const code = ok ? undefined : codeOf(result.reason);
        await record({
          actor: `workflow/${scope.workflow.name}/${scope.runId}`,
          action: `ctx.${capability}.${method}`,
          resource: `${capability}/${name}`,
          outcome: ok ? 'ok' : code === 'PERMISSION' ? 'refused' : 'failed',
          ...(code ? { code } : {}),
          ...beforeAfter(effects),
        });
      }
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    };
  };

  const out: Capabilities = {};
  for (const [capability, methods] of Object.entries(capabilities)) {
    const skip = Object.hasOwn(NOT_EFFECTS, capability) ? NOT_EFFECTS[capability] : [];
    out[capability] = Object.fromEntries(Object.entries(methods).map(([method, fn]) => [method, skip.includes(method) ? fn : wrap(capability, method, fn)]));
  }
  return out as C;
}
