import type { EmitEvent } from '../domain/emit.ts';
import type { Quarantine, QuarantineStore } from '../ports/quarantine.ts';
import type { SandboxHost, SandboxOutcome, SandboxRequest } from '../ports/sandbox-host.ts';
import type { Logger } from '../shared/logger.ts';

export interface QuarantineOptions {
  store: QuarantineStore;
  emit: EmitEvent;
  /** Process kills by one workflow version within `windowMs` that quarantine it (VEER_SANDBOX_QUARANTINE_CRASHES); 0 turns quarantine off. */
  crashes: number;
  windowMs: number;
  logger: Logger;
}

/**
 * Outcomes the sandbox only gives a run that killed its process by itself (engine/sandbox/
 * process-loss.ts): bystanders get SANDBOX.PROCESS_LOST instead, and never count.
 */
const PROCESS_KILLERS: ReadonlySet<string> = new Set(['SANDBOX.CRASHED', 'SANDBOX.MEMORY', 'SANDBOX.UNRESPONSIVE']);
const MAX_REASON_CHARS = 500;

/**
 * A run scope may carry its version's quarantine as the attempt's start read it (RunStore.begin
 * reads it in the same step that starts the attempt; null: not quarantined), so the guard reads
 * none of its own on the hot path. Without it (re-runs, other callers) the guard reads the store.
 */
export interface QuarantineReadAtStart {
  quarantineAtStart?: Quarantine | null;
}

/**
 * A SandboxHost that stops a workflow version from taking sandbox processes down again and
 * again (each kill costs every run sharing the process a re-run): after `crashes` kills within
 * the window the version is quarantined, announced once as `workflow.quarantined`, and its runs
 * fail at once with SANDBOX.QUARANTINED until a new version is uploaded.
 */
export function withQuarantine(sandbox: SandboxHost, o: QuarantineOptions): SandboxHost {
  if (o.crashes <= 0) return sandbox;

  const strike = async (request: SandboxRequest, outcome: Extract<SandboxOutcome, { error: unknown }>): Promise<void> => {
    const { name, version } = request.scope.workflow;
    const runId = request.scope.runId;
    const count = await o.store.recordCrash(name, version, runId, o.windowMs);
    if (count < o.crashes) return;
    const last = `${outcome.error.code}: ${outcome.error.message}`;
    const reason = `its runs killed their sandbox process ${count} times within ${Math.round(o.windowMs / 1000)} s (VEER_SANDBOX_QUARANTINE_CRASHES=${o.crashes}, VEER_SANDBOX_QUARANTINE_WINDOW_MS=${o.windowMs}); last, run ${runId}: ${last.length > MAX_REASON_CHARS ? `${last.slice(0, MAX_REASON_CHARS)}…` : last}`;
    const fresh = await o.store.quarantine({ workflow: name, version, reason, since: new Date().toISOString(), crashes: count, runId });
    if (!fresh) return;
    o.logger.warn({ workflow: name, version, crashes: count }, 'workflow version quarantined');
    void o.emit({
      tags: ['workflows', `workflows:${name}`],
      type: 'workflow.quarantined',
      value: { workflow: name, version, reason, crashes: count, windowMs: o.windowMs, runId },
    });
  };

  return {
    async run(request, signal) {
      const { name, version } = request.scope.workflow;
      const readAtStart = (request.scope as QuarantineReadAtStart).quarantineAtStart;
      // The store being down must not stop every run: the guard then lets runs through.
      const quarantined =
        readAtStart !== undefined
          ? (readAtStart ?? undefined)
          : await o.store.get(name, version).catch((err: unknown) => {
              o.logger.warn({ err, workflow: name }, 'cannot read quarantine; running anyway');
              return undefined;
            });
      if (quarantined) {
        return {
          status: 'failed',
          error: {
            code: 'SANDBOX.QUARANTINED',
            message: `workflow '${name}' version ${version} is quarantined since ${quarantined.since}: ${quarantined.reason}. Upload a new version to release it`,
          },
        };
      }
      const outcome = await sandbox.run(request, signal);
      if (outcome.status !== 'succeeded' && PROCESS_KILLERS.has(outcome.error.code)) {
        await strike(request, outcome).catch((err: unknown) => o.logger.warn({ err, workflow: name }, 'cannot record a sandbox crash for quarantine'));
      }
      return outcome;
    },
    close: () => sandbox.close(),
  };
}
