import { createRoute, z } from '@hono/zod-openapi';
import type { RunStore } from '../../engine/ports/run-store.ts';
import type { StateStore } from '../../engine/ports/state-store.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { loadTemplates } from '../template-catalog.ts';
import { createRouter } from '../validation.ts';

const ReleaseBody = z
  .object({
    workflow: z.string(),
    gateway: z.string().optional().describe('env GATEWAY'),
    stableRoute: z.string().describe("env STABLE_ROUTE, default 'stable'"),
    canaryRoute: z.string().describe("env CANARY_ROUTE, default 'canary'"),
    steps: z.string().describe('env STEPS as written (JSON)'),
    paused: z.object({ by: z.string(), at: z.string(), reason: z.string().optional() }).optional().describe("the workflow's triggers are paused"),
    release: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('state key `release` (phase, stepIndex, weight, failures, pausedSince, …); null before the first run'),
    history: z
      .array(z.record(z.string(), z.unknown()))
      .describe('state key `history`: every check, oldest first (weight, action, phase, verdict with canary/stable numbers)'),
    lastRun: z.object({ id: z.string(), status: z.string(), queuedAt: z.string() }).nullable().describe("the workflow's newest run"),
  })
  .openapi('Release', { description: 'A canary-release workflow and where its release stands (what `veer release status` shows)' });

export interface ReleaseRouteDeps {
  workflows: WorkflowStore;
  state: StateStore;
  runs: RunStore;
  /** The built-in canary script a release workflow runs; default: the shipped template's. */
  canaryScript?: string;
}

const text = (v: unknown, fallback: string) => (typeof v === 'string' && v !== '' ? v : fallback);

/**
 * GET /releases: the workflows running the built-in canary script, each with its release state,
 * so a dashboard reads every release in one request instead of every workflow's script and state.
 */
export function createReleaseRoutes(deps: ReleaseRouteDeps) {
  const r = createRouter();
  const canary = (deps.canaryScript ?? loadTemplates().find((t) => t.name === 'canary-release')?.workflow.script ?? '').trim();
  r.openapi(
    createRoute({
      method: 'get',
      path: '/releases',
      summary: 'Canary releases: the workflows whose script is the built-in canary-release, with their state and newest run',
      responses: {
        200: { description: 'Releases by workflow name', content: { 'application/json': { schema: z.object({ releases: z.array(ReleaseBody) }) } } },
      },
    }),
    async (c) => {
      // Compared trimmed: `veer apply` reads the script from a file that may end differently.
      const workflows = (await deps.workflows.list()).filter((w) => canary !== '' && w.script.trim() === canary);
      const releases = await Promise.all(
        workflows.map(async (w) => {
          const [state, runs] = await Promise.all([deps.state.all(w.name), deps.runs.list(w.name, { limit: 1 })]);
          const release =
            state.release && typeof state.release === 'object' && !Array.isArray(state.release) ? (state.release as Record<string, unknown>) : null;
          const history = Array.isArray(state.history) ? (state.history as Array<Record<string, unknown>>) : [];
          const run = runs[0];
          return {
            workflow: w.name,
            ...(typeof w.env.GATEWAY === 'string' ? { gateway: w.env.GATEWAY } : {}),
            stableRoute: text(w.env.STABLE_ROUTE, 'stable'),
            canaryRoute: text(w.env.CANARY_ROUTE, 'canary'),
            steps: typeof w.env.STEPS === 'string' ? w.env.STEPS : '[5, 25, 50, 100]',
            ...(w.paused ? { paused: w.paused } : {}),
            release,
            history,
            lastRun: run ? { id: run.id, status: run.status, queuedAt: run.queuedAt } : null,
          };
        }),
      );
      return c.json({ releases: releases.sort((a, b) => a.workflow.localeCompare(b.workflow)) }, 200);
    },
  );
  return r;
}
