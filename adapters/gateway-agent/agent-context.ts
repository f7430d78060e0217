import type { StaticTarget } from '../../engine/domain/gateways/model.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import type { AgentState } from './agent-state.ts';
import type { HaproxyProcess } from './haproxy-process.ts';
import type { RenderOptions } from './render.ts';
import type { RuntimeApi } from './runtime-api.ts';

/** Resolves a route's `{ deployment, port }` targets to servers (deployment-targets.ts does it via the scheduler). */
export type ResolveTargets = (deployment: string, port: string | number) => Promise<StaticTarget[]>;

/**
 * What the reconcile modules work with: the agent's state plus its collaborators, which are
 * fixed when the agent is created. Passed as one argument so each module's functions stay
 * plain functions of (context, input).
 */
export interface AgentContext {
  state: AgentState;
  haproxy: HaproxyProcess;
  /** HAProxy's runtime API on the admin socket: weights and route servers without a reload. */
  api: RuntimeApi;
  render: RenderOptions;
  log: Logger;
  /** Absent: routes with `{ deployment, port }` targets get no servers (and are reported). */
  resolveTargets?: ResolveTargets;
  /** How long a server removed at runtime may finish its connections before the agent reloads instead. */
  drainTimeoutMs: number;
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
