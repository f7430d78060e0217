import { errorText, type AgentContext } from './agent-context.ts';
import type { AppliedGateway, GatewayFailure } from './agent-state.ts';
import { recordOutcome } from './agent-status.ts';
import { buildCandidate, hasDeploymentTargets } from './candidates.ts';
import { applyReload } from './reload.ts';
import { applyRuntime } from './runtime-apply.ts';

/**
 * One reconcile pass: decide what changed between the store (`state.desired`) and HAProxy
 * (`state.applied`), then apply it the cheapest way HAProxy allows — weights and route
 * servers through the runtime API, anything else by a validated hitless reload — and record
 * the outcome for the status. A gateway that cannot be applied keeps its last good version
 * and is reported; the others still go ahead.
 */
export async function reconcile(ctx: AgentContext): Promise<void> {
  // A HAProxy that died is the watchdog's to restart (it paces a crash loop and counts each
  // restart); starting it here would skip both. Its restart schedules a pass, and the heartbeat
  // backstop sets forceReload when even the watchdog failed.
  if (!ctx.state.forceReload && !(await ctx.haproxy.running())) return;
  const { candidates, failures } = await planCandidates(ctx);
  let done = false;
  if (!(await needsReload(ctx, candidates))) done = await applyRuntime(ctx, candidates);
  if (!done) await applyReload(ctx, candidates, failures);
  recordOutcome(ctx, failures);
}

/**
 * The version each gateway should serve next (name order, so port clashes are decided the same
 * way every time): rebuilt when its revision changed or its deployment targets may have moved,
 * else the applied one. A version that does not build, or whose port an earlier gateway
 * already holds, is a failure; its gateway keeps the applied version where that still fits.
 */
async function planCandidates(ctx: AgentContext): Promise<{ candidates: Map<string, AppliedGateway>; failures: Map<string, GatewayFailure> }> {
  const { state } = ctx;
  const failures = new Map<string, GatewayFailure>();
  const candidates = new Map<string, AppliedGateway>();
  const ports = new Map<number, string>();
  for (const name of [...state.desired.keys()].sort()) {
    const stored = state.desired.get(name)!;
    const prev = state.applied.get(name);
    let cand: AppliedGateway | undefined = prev;
    if (!prev || prev.revision !== stored.revision || (hasDeploymentTargets(prev.gateway) && ctx.resolveTargets)) {
      try {
        cand = await buildCandidate(ctx, name, stored);
      } catch (err) {
        failures.set(name, { revision: stored.revision, error: errorText(err) });
      }
    }
    if (cand && ports.has(cand.gateway.port)) {
      failures.set(name, { revision: stored.revision, error: `port ${cand.gateway.port} is already used by gateway '${ports.get(cand.gateway.port)}'` });
      cand = prev && prev !== cand && !ports.has(prev.gateway.port) ? prev : undefined;
    }
    if (cand) {
      ports.set(cand.gateway.port, name);
      candidates.set(name, cand);
    }
  }
  return { candidates, failures };
}

/**
 * Whether the candidates differ from what runs in more than weights and route servers (or
 * HAProxy must be (re)started with a config of ours): then only a reload can apply them.
 */
async function needsReload(ctx: AgentContext, candidates: Map<string, AppliedGateway>): Promise<boolean> {
  const { state } = ctx;
  return (
    state.forceReload ||
    !(await ctx.haproxy.running()) ||
    candidates.size !== state.applied.size ||
    [...candidates].some(([n, c]) => state.applied.get(n)?.skeleton !== c.skeleton)
  );
}
