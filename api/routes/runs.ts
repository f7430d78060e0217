import { createRoute, z } from '@hono/zod-openapi';
import { globsAllow } from '../../engine/domain/access.ts';
import { FINAL_STATUSES, RUN_STATUSES, type Run, type RunStatus } from '../../engine/domain/run.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import type { RunStore } from '../../engine/ports/run-store.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import type { RunCanceller } from '../../engine/runs/run-canceller.ts';
import type { RunLauncher } from '../../engine/runs/launcher.ts';
import { ConflictError } from '../../engine/shared/errors.ts';
import { delay } from '../../engine/shared/wait.ts';
import { principalOf } from '../auth.ts';
import { errorResponse } from '../error-body.ts';
import { sseResponse, type SseItem, type SseSourceContext } from '../sse.ts';
import { createRouter } from '../validation.ts';

const DryRunEffectBody = z
  .object({
    capability: z.string().describe('gateways.setWeights, gateways.update, deployments.scale, events.emit, signals.take, state.set, state.delete'),
    target: z.string().describe("what it acts on: a gateway, deployment or state key name, a signal name, or the event's tags"),
    before: z.unknown(),
    after: z.unknown(),
  })
  .openapi('DryRunEffect');
const DryRunResultBody = z
  .object({ value: z.unknown().describe("the script's own result"), effects: z.array(DryRunEffectBody).describe('what the run would have changed, in order') })
  .openapi('DryRunResult');

const RunBody = z.object({
  id: z.string(),
  workflow: z.string(),
  workflowVersion: z.number(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled']),
  trigger: z.object({ type: z.string() }).passthrough(),
  input: z.unknown(),
  attempts: z.number().describe('attempts started, interrupted ones included'),
  maxAttempts: z.number().describe('retries.attempts: failed attempts allowed; interrupted ones do not count'),
  interrupted: z.number().optional().describe('attempts cut short by an engine crash, a stalled lock or a lost sandbox process, run again for free'),
  queuedAt: z.string(),
  startedAt: z.string().optional().describe('when the first attempt started'),
  attemptStartedAt: z.string().optional().describe('when the current or last attempt started'),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
  result: z.union([DryRunResultBody, z.unknown()]).optional().describe("the script's return value; for a dry run (`dryRun: true`) a DryRunResult"),
  error: z.object({ code: z.string(), message: z.string(), line: z.number().optional(), column: z.number().optional() }).optional(),
  budget: z
    .object({
      hostCalls: z.number(),
      hostCallsInFlightPeak: z.number(),
      bytesReturned: z.number(),
      eventsEmitted: z.number(),
      eventResults: z.number(),
      exceeded: z.string().optional(),
    })
    .optional()
    .describe('what the last attempt used of its per-run budgets (VEER_BUDGET_*)'),
  dryRun: z.boolean().optional().describe('a dry run: `result` is `{ value, effects: [{ capability, target, before, after }] }`'),
  engineId: z.string().optional().describe('the engine that ran the latest attempt'),
});
const LogEntryBody = z.object({
  seq: z.number(),
  time: z.string(),
  level: z.string(),
  message: z.string(),
  fields: z.record(z.string(), z.unknown()).optional(),
  attempt: z.number().optional(),
});
const notFound = { 404: errorResponse('No such workflow or run') };

/** `?status=failed,timed_out`: a comma-separated list of run statuses. */
const StatusListQuery = z
  .string()
  .transform((text, ctx) => {
    const list = text.split(',').map((s) => s.trim());
    const unknown = list.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s));
    if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown run status ${unknown.join(', ')}; one of ${RUN_STATUSES.join(', ')}` });
    return list as RunStatus[];
  })
  .openapi({ type: 'string', example: 'failed,timed_out', description: `comma-separated, of ${RUN_STATUSES.join(', ')}` });

/** Store calls a glob-limited token's page may take to fill (each scans a bounded number of runs). */
const GLOB_PAGE_CALLS = 4;

/**
 * Run inputs nest at most this deep. Deeper JSON parses fine but overflowed the stack of
 * every recursive step after it (storing, copying into the isolate): a 500, not a 400.
 */
const MAX_INPUT_DEPTH = 64;

/** Whether arrays/objects in `value` nest deeper than `limit`; iterative, so 10k levels are safe to ask about. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth >= limit) return true;
    for (const child of Array.isArray(next.value) ? next.value : Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

const RunStartBody = z
  .object({
    input: z
      .unknown()
      .optional()
      .refine((v) => !nestedDeeperThan(v, MAX_INPUT_DEPTH), `must not nest arrays and objects more than ${MAX_INPUT_DEPTH} levels deep`),
    dryRun: z
      .boolean()
      .optional()
      .describe('reads are real; gateway, deployment, event, signal and state effects are recorded in `result.effects` and not applied'),
  })
  .strict();

export interface RunRouteDeps {
  workflows: WorkflowStore;
  runs: RunStore;
  launcher: RunLauncher;
  canceller: RunCanceller;
  /** Upper bound for `?wait=true` (default 5 minutes). */
  maxWaitMs?: number;
  /** SSE comment interval (default 15 s). */
  heartbeatMs?: number;
}

/** Polls until the run is final or the deadline passes; a few ms of latency, no extra connection. */
async function waitForFinal(runs: RunStore, id: string, timeoutMs: number): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  let pause = 2;
  for (;;) {
    const run = await runs.require(id);
    if (FINAL_STATUSES.has(run.status) || Date.now() >= deadline) return run;
    await delay(pause);
    pause = Math.min(pause * 2, 50);
  }
}

/**
 * A run's log entries as `log` events (id = seq), from after the client's Last-Event-ID
 * (or `?after`), until the run is final and its log drained (`followLog` ends then).
 */
async function* logFeed(runs: RunStore, id: string, after: number, { lastEventId, signal }: SseSourceContext): AsyncGenerator<SseItem> {
  let seq = Number(lastEventId ?? after) || 0;
  for await (const batch of runs.followLog(id, seq, { signal })) {
    for (const e of batch) {
      // Never resend what the client has, whichever way the store reads `fromSeq`.
      if (e.seq <= seq) continue;
      seq = e.seq;
      yield { event: 'log', id: String(e.seq), data: JSON.stringify(e) };
    }
  }
}

export function createRunRoutes(deps: RunRouteDeps) {
  const r = createRouter();
  const maxWaitMs = deps.maxWaitMs ?? 300_000;

  r.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{name}/runs',
      summary: 'Start a run; with ?wait=true answer when it ends',
      request: {
        params: z.object({ name: NameSchema }),
        query: z.object({
          wait: z.enum(['true', 'false']).optional(),
          timeoutMs: z.coerce
            .number()
            .int()
            .min(1)
            .max(maxWaitMs)
            .optional()
            .describe(
              'how long ?wait=true waits (default: the workflow timeout for every attempt and for one re-run in a fresh sandbox process, plus backoff; at most 5 minutes)',
            ),
        }),
        body: { required: false, content: { 'application/json': { schema: RunStartBody } } },
      },
      responses: {
        201: { description: 'Run queued (or finished, with ?wait=true)', content: { 'application/json': { schema: RunBody } } },
        202: { description: 'With ?wait=true: still running when the wait ended', content: { 'application/json': { schema: RunBody } } },
        400: errorResponse('Invalid body or query; `details.issues` names the field (`input`, `dryRun`, `timeoutMs`)'),
        409: errorResponse('The run was not started (CONFLICT, with the reason)'),
        ...notFound,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { wait, timeoutMs } = c.req.valid('query');
      const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
      const res = await deps.launcher.start(name, { input: body?.input, trigger: { type: 'manual' }, ...(body?.dryRun ? { dryRun: true } : {}) });
      if (!res.started)
        throw new ConflictError(`the run was not started (${res.reason}); retry, or check the workflow`, { reason: res.reason, runId: res.runId });
      if (wait !== 'true') return c.json(res.run, 201);
      const wf = await deps.workflows.require(name);
      // Every attempt, plus the one re-run alone a lost sandbox process earns (it costs no retry).
      const budget = timeoutMs ?? Math.min(maxWaitMs, wf.limits.timeoutMs * (wf.retries.attempts + 1) + wf.retries.backoffMs * 2 ** wf.retries.attempts + 5000);
      const run = await waitForFinal(deps.runs, res.run.id, budget);
      return c.json(run, FINAL_STATUSES.has(run.status) ? 201 : 202);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{name}/runs',
      summary: "A workflow's runs, newest first",
      request: {
        params: z.object({ name: NameSchema }),
        query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50), offset: z.coerce.number().int().min(0).default(0) }),
      },
      responses: { 200: { description: 'Runs', content: { 'application/json': { schema: z.object({ runs: z.array(RunBody) }) } } }, ...notFound },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { limit, offset } = c.req.valid('query');
      await deps.workflows.require(name);
      return c.json({ runs: await deps.runs.list(name, { limit, offset }) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/runs',
      summary: "Every workflow's runs, newest first, a page at a time",
      description:
        'A page may come back short (even empty) with `next` when a filter matched few of the runs scanned: go on from `next` until it is absent. ' +
        'A token limited by globs sees the runs of the workflows within them.',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.string().min(1).max(300).optional().describe('the `next` of the previous page'),
          status: StatusListQuery.optional(),
          workflow: NameSchema.optional(),
        }),
      },
      responses: {
        200: {
          description: 'Runs, and `next` when there may be more',
          content: { 'application/json': { schema: z.object({ runs: z.array(RunBody), next: z.string().optional() }) } },
        },
        400: errorResponse('Invalid query; `details.issues` names the field (`limit`, `before`, `status`, `workflow`)'),
      },
    }),
    async (c) => {
      const { limit, before, status, workflow } = c.req.valid('query');
      const globs = principalOf(c)?.globs;
      const allowed = (run: Run) => globsAllow(globs, 'workflows', run.workflow);
      if (workflow !== undefined && !globsAllow(globs, 'workflows', workflow)) return c.json({ runs: [] }, 200);
      // Glob-limited tokens: the store pages unaware of globs, so fill the page over a few calls
      // (each asks only for what is missing, so its `next` stays exact); then answer short.
      const runs: Run[] = [];
      let next = before;
      for (let calls = 0; calls < (globs ? GLOB_PAGE_CALLS : 1) && runs.length < limit; calls++) {
        const page = await deps.runs.listAll({ limit: limit - runs.length, before: next, status, workflow });
        runs.push(...(globs ? page.runs.filter(allowed) : page.runs));
        next = page.next;
        if (next === undefined) break;
      }
      return c.json({ runs, ...(next === undefined ? {} : { next }) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}',
      summary: 'One run',
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: { 200: { description: 'The run', content: { 'application/json': { schema: RunBody } } }, ...notFound },
    }),
    async (c) => c.json(await deps.runs.require(c.req.valid('param').id), 200),
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/cancel',
      summary: 'Cancel a queued or running run',
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: {
        202: { description: 'Cancellation requested (the run ends as cancelled)', content: { 'application/json': { schema: RunBody } } },
        409: errorResponse('The run already ended'),
        ...notFound,
      },
    }),
    async (c) => c.json(await deps.canceller.cancel(c.req.valid('param').id), 202),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}/logs',
      summary: "A run's log; with `Accept: text/event-stream` (or ?follow=true) a live Server-Sent Events stream that ends when the run does",
      request: {
        params: z.object({ id: z.string().min(1).max(100) }),
        query: z.object({
          after: z.coerce.number().int().min(0).default(0).describe('only entries with seq greater than this'),
          limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
          follow: z.enum(['true', 'false']).optional(),
        }),
      },
      responses: {
        200: {
          description: 'Log entries (JSON), or an SSE stream of `log` events (id = seq) followed by one `end` event with the run',
          content: { 'application/json': { schema: z.object({ entries: z.array(LogEntryBody) }) }, 'text/event-stream': { schema: z.string() } },
        },
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { after, limit, follow } = c.req.valid('query');
      await deps.runs.require(id);
      const wantsStream = follow === 'true' || (c.req.header('accept') ?? '').includes('text/event-stream');
      if (!wantsStream) return c.json({ entries: await deps.runs.readLog(id, { afterSeq: after, limit }) }, 200);
      return sseResponse(c, (source) => logFeed(deps.runs, id, after, source), {
        heartbeatMs: deps.heartbeatMs ?? 15_000,
        end: async () => JSON.stringify(await deps.runs.require(id)),
      });
    },
  );

  return r;
}
