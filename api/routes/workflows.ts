import { createRoute, z } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { DRY_RUN_OUTCOMES, DryRunQuerySchema, outcomeOf } from '../../engine/domain/dry-run-put.ts';
import { RUN_STATUSES } from '../../engine/domain/run.ts';
import { metadataOf, type Metadata } from '../../engine/domain/metadata.ts';
import { ceilingIssues, DEFAULT_CEILINGS, type LimitCeilings } from '../../engine/domain/ceilings.ts';
import { isCronTrigger, NameSchema, WorkflowSpecSchema, type Workflow, type WorkflowSpec } from '../../engine/domain/workflow.ts';
import type { RunStore } from '../../engine/ports/run-store.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { sharedScriptCompiler, type ScriptCompiler } from '../../engine/sandbox/script-compiler.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { issuesFromZod, issuesOfError, validationErrorFromZod, validationErrorOf, type Issue } from '../../engine/shared/issues.ts';
import { parseCron } from '../../engine/triggers/cron-expression.ts';
import { errorResponse } from '../error-body.ts';
import { asStored } from '../stored-schema.ts';
import { createRouter } from '../validation.ts';
import type { QuarantineStore } from '../../engine/ports/quarantine.ts';

const NameParam = z.object({ name: NameSchema });
const PauseBody = z
  .object({ by: z.string(), at: z.string().describe('ISO time'), reason: z.string().optional() })
  .describe('present while the triggers are paused (manual runs still start)');
const QuarantineBody = z
  .object({
    workflow: z.string(),
    version: z.number().int(),
    reason: z.string().describe("how many process kills in what window, and the last one's error"),
    since: z.string().describe('ISO time it was quarantined'),
    crashes: z.number().int().describe('process kills counted within the window when it was quarantined'),
    runId: z.string().describe('the run whose kill tipped it over'),
  })
  .describe('on GET, while this version is quarantined: its runs fail at once; uploading a new version releases it');
/** A stored workflow version as every route answers it (pause and resume too). */
export const WorkflowBody = asStored(WorkflowSpecSchema)
  .extend({
    name: z.string(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    paused: PauseBody.optional(),
    quarantined: QuarantineBody.optional(),
  })
  .openapi('Workflow', { description: 'A stored workflow version: its spec (defaults filled in) plus name, version, createdAt, updatedAt and `paused`' });
const WorkflowDryRun = z
  .object({
    outcome: z.enum(DRY_RUN_OUTCOMES).describe('what the PUT would do: `unchanged` when the current version already has this spec'),
    object: WorkflowBody.partial({ createdAt: true, updatedAt: true }).describe(
      'a Workflow: the workflow as GET would answer after the PUT: `version` is the one it would get, `createdAt` the current one (absent when created), no `updatedAt`; for `unchanged`, the current version as it is',
    ),
  })
  .openapi('WorkflowDryRun', { description: 'The answer of PUT ?dryRun=true: nothing was stored' });
const WorkflowSummary = WorkflowBody.pick({
  name: true,
  version: true,
  description: true,
  trigger: true,
  enabled: true,
  paused: true,
  labels: true,
  updatedAt: true,
})
  .extend({
    lastRun: z
      .object({
        id: z.string(),
        status: z.enum(RUN_STATUSES),
        createdAt: z.string().describe('when it was queued'),
        finishedAt: z.string().optional().describe('when it ended; absent while it is queued or running'),
      })
      .nullable()
      .describe('the newest run, null when it never ran'),
    nextTick: z.string().nullable().describe('ISO time the cron trigger fires next (in its timezone); null for other triggers'),
  })
  .openapi('WorkflowSummary', { description: 'A list row: no script, with its newest run and next cron tick' });
const WorkflowSummaryPage = z
  .object({ workflows: z.array(WorkflowSummary), total: z.number().int().describe('workflows matching q, before paging') })
  .openapi('WorkflowSummaryPage', { description: 'The answer of GET /workflows?view=summary' });
const ListQuery = z.object({
  view: z.enum(['summary']).optional().describe('summary: rows without the script, with `total`, `lastRun` and `nextTick`, sorted by name'),
  limit: z.coerce.number().int().min(1).max(200).optional().describe('page size (with view=summary: default 50)'),
  offset: z.coerce.number().int().min(0).optional(),
  q: z.string().max(63).optional().describe('only workflows whose name contains this'),
});
/** The page size of a summary without `limit`: a list screen, not everything. */
const SUMMARY_LIMIT = 50;
const errors = {
  400: errorResponse('Invalid input; `details.issues` names every field at fault at once (and line/column for scripts)'),
  401: errorResponse('Missing or wrong bearer token'),
  404: errorResponse('No such workflow'),
};

/** The API view: everything but the compiled script (an internal artefact). */
export function presentWorkflow(wf: Workflow): Omit<Workflow, 'compiled'> & Metadata {
  const { compiled: _compiled, ...rest } = wf;
  // Versions stored before labels existed show them empty.
  return { ...rest, ...metadataOf(rest) };
}

/** When a cron workflow fires next, by the parser the scheduler uses; null for other triggers (and expressions that never fire). */
function nextTickOf(wf: Workflow, now: Date): string | null {
  if (!isCronTrigger(wf.trigger)) return null;
  try {
    return parseCron(wf.trigger.cron, wf.trigger.timezone).nextRun(now)?.toISOString() ?? null;
  } catch {
    return null;
  }
}

/** A list row: what a list screen shows, and nothing as heavy as the script. */
async function summaryOf(wf: Workflow, runs: Pick<RunStore, 'list'> | undefined, now: Date): Promise<z.infer<typeof WorkflowSummary>> {
  const [last] = runs ? await runs.list(wf.name, { limit: 1 }) : [];
  return {
    name: wf.name,
    version: wf.version,
    ...(wf.description === undefined ? {} : { description: wf.description }),
    ...(wf.trigger ? { trigger: wf.trigger } : {}),
    enabled: wf.enabled,
    ...(wf.paused ? { paused: wf.paused } : {}),
    labels: wf.labels ?? {},
    updatedAt: wf.updatedAt,
    lastRun: last ? { id: last.id, status: last.status, createdAt: last.queuedAt, ...(last.finishedAt ? { finishedAt: last.finishedAt } : {}) } : null,
    nextTick: nextTickOf(wf, now),
  };
}

/** The spec fields of a stored version, defaults filled, to compare with what a PUT would store. */
function specOfStored(wf: Workflow): WorkflowSpec {
  const { name: _n, version: _v, paused: _p, compiled: _c, createdAt: _ca, updatedAt: _u, ...spec } = wf;
  return { ...spec, ...metadataOf(spec) };
}

/** What a dry-run PUT answers: the outcome and the workflow as it would be (see WorkflowDryRun); `spec` is the parsed body (labels and annotations filled in). */
function planPut(name: string, current: Workflow | undefined, spec: z.output<typeof WorkflowSpecSchema>) {
  const outcome = outcomeOf(current && specOfStored(current), spec);
  if (current && outcome === 'unchanged') return { outcome, object: presentWorkflow(current) };
  const object = {
    name,
    version: (current?.version ?? 0) + 1,
    ...(current ? { createdAt: current.createdAt } : {}),
    ...spec,
    ...(current?.paused ? { paused: current.paused } : {}),
  };
  return { outcome, object };
}

/** Runs `check`, turning a ValidationError it throws into issues (anything else propagates). */
function collect(issues: Issue[], check: () => void): void {
  try {
    check();
  } catch (err) {
    const found = issuesOfError(err);
    if (!found) throw err;
    issues.push(...found);
  }
}

/**
 * The checks the schema cannot make (the script compiles, the cron expression and timezone
 * are valid, `limits` are within the operator's ceilings), run on whatever fields are
 * well-formed even when others are not, so one answer lists every problem. Returns the
 * compiled script when it compiled.
 */
async function checkSpec(input: unknown, known: Issue[], ceilings: LimitCeilings, compiler: ScriptCompiler): Promise<{ issues: Issue[]; compiled?: string }> {
  const issues: Issue[] = [];
  const spec = (typeof input === 'object' && input !== null ? input : {}) as Partial<Record<keyof WorkflowSpec, unknown>>;
  const flagged = (field: string) => known.some((i) => i.path === field || i.path.startsWith(`${field}.`));
  issues.push(...ceilingIssues(spec.limits, ceilings, flagged));
  let compiled: string | undefined;
  if (typeof spec.script === 'string' && !flagged('script')) {
    try {
      compiled = await compiler.compile(spec.script);
    } catch (err) {
      collect(issues, () => {
        throw err;
      });
    }
  }
  const trigger = spec.trigger as { cron?: unknown; timezone?: unknown } | undefined;
  if (trigger && typeof trigger.cron === 'string' && !flagged('trigger')) {
    const timezone = trigger.timezone === undefined ? 'UTC' : trigger.timezone;
    if (typeof timezone === 'string') collect(issues, () => parseCron(trigger.cron as string, timezone));
  }
  return { issues, compiled };
}

export interface WorkflowRouteDeps {
  workflows: WorkflowStore;
  /** The operator's ceilings over `limits` (config `engine.ceilings`). Default: the VEER_MAX_* defaults. */
  ceilings?: LimitCeilings;
  /** Compiles uploads in a disposable worker (default: the process's shared one). */
  compiler?: ScriptCompiler;
  /** Shows a version's quarantine (`quarantined`) on GET. */
  quarantine?: QuarantineStore;
  /** The newest run per row of `?view=summary` (absent: `lastRun` is null). */
  runs?: Pick<RunStore, 'list'>;
}

export function createWorkflowRoutes(deps: WorkflowRouteDeps) {
  const r = createRouter();
  const ceilings = deps.ceilings ?? DEFAULT_CEILINGS;
  const compiler = deps.compiler ?? sharedScriptCompiler();

  r.openapi(
    createRoute({
      method: 'put',
      path: '/workflows/{name}',
      summary: 'Create or replace a workflow (stores a new version, even of an unchanged spec); ?dryRun=true checks it and stores nothing',
      request: {
        params: NameParam,
        query: DryRunQuerySchema,
        body: { required: true, content: { 'application/json': { schema: WorkflowSpecSchema } } },
      },
      responses: {
        200: {
          description: 'The stored workflow, or with ?dryRun=true a WorkflowDryRun',
          content: { 'application/json': { schema: z.union([WorkflowBody, WorkflowDryRun]) } },
        },
        ...errors,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const spec = c.req.valid('json');
      const checked = await checkSpec(spec, [], ceilings, compiler);
      if (checked.issues.length || checked.compiled === undefined) throw validationErrorOf(checked.issues);
      if (c.req.valid('query').dryRun === 'true') return c.json(planPut(name, await deps.workflows.get(name), spec), 200);
      const wf = await deps.workflows.put(name, spec, checked.compiled);
      return c.json(presentWorkflow(wf), 200);
    },
    (result): undefined | Promise<never> => {
      if (result.success) return undefined;
      const error = result.error as unknown as ZodError;
      if (result.target !== 'json') throw validationErrorFromZod(error);
      // A body that fails its schema is still checked for script and cron mistakes.
      const issues = issuesFromZod(error);
      return checkSpec((result as { data?: unknown }).data, issues, ceilings, compiler).then((checked) => {
        throw validationErrorOf([...issues, ...checked.issues]);
      });
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/workflows',
      summary: 'List workflows (whole, every one); ?view=summary a page of rows without scripts; q, limit and offset filter and page either',
      request: { query: ListQuery },
      responses: {
        200: {
          description: 'Whole workflows; with view=summary a WorkflowSummaryPage: WorkflowSummary rows and `total`',
          content: { 'application/json': { schema: z.union([z.object({ workflows: z.array(WorkflowBody) }), WorkflowSummaryPage]) } },
        },
        400: errors[400],
      },
    }),
    async (c) => {
      const { view, limit, offset = 0, q } = c.req.valid('query');
      let list = await deps.workflows.list();
      if (view === undefined && limit === undefined && offset === 0 && !q) return c.json({ workflows: list.map(presentWorkflow) }, 200);
      if (q) list = list.filter((wf) => wf.name.includes(q));
      list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const page = list.slice(offset, offset + (limit ?? (view === 'summary' ? SUMMARY_LIMIT : list.length)));
      if (view !== 'summary') return c.json({ workflows: page.map(presentWorkflow) }, 200);
      const now = new Date();
      const workflows = await Promise.all(page.map((wf) => summaryOf(wf, deps.runs, now)));
      const body: z.infer<typeof WorkflowSummaryPage> = { workflows, total: list.length };
      return c.json(body, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{name}',
      summary: 'Get a workflow (current version, or ?version=N)',
      request: { params: NameParam, query: z.object({ version: z.coerce.number().int().min(1).optional() }) },
      responses: { 200: { description: 'The workflow', content: { 'application/json': { schema: WorkflowBody } } }, ...errors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { version } = c.req.valid('query');
      const wf = version ? await deps.workflows.getVersion(name, version) : await deps.workflows.get(name);
      if (!wf) {
        await deps.workflows.require(name);
        throw new VeerError('NOT_FOUND', `workflow '${name}' has no version ${version}`, { details: { kind: 'workflow', name, version } });
      }
      // A quarantined version's runs fail at once; say so where a user looks first.
      const quarantined = await deps.quarantine?.get(name, wf.version);
      return c.json(quarantined ? { ...presentWorkflow(wf), quarantined } : presentWorkflow(wf), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{name}/versions',
      summary: 'List the stored versions of a workflow',
      request: { params: NameParam },
      responses: {
        200: {
          description: 'Versions, oldest first',
          content: { 'application/json': { schema: z.object({ versions: z.array(z.object({ version: z.number(), createdAt: z.string() })) }) } },
        },
        ...errors,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      await deps.workflows.require(name);
      return c.json({ versions: await deps.workflows.versions(name) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'delete',
      path: '/workflows/{name}',
      summary: 'Delete a workflow, its versions, state and schedule',
      request: { params: NameParam },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      if (!(await deps.workflows.delete(name))) await deps.workflows.require(name);
      return c.body(null, 204);
    },
  );

  return r;
}
