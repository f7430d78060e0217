import { createRoute, z } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { ceilingIssues, DEFAULT_CEILINGS, type LimitCeilings } from '../../engine/domain/ceilings.ts';
import { NameSchema, WorkflowSpecSchema, type Workflow, type WorkflowSpec } from '../../engine/domain/workflow.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { sharedScriptCompiler, type ScriptCompiler } from '../../engine/sandbox/script-compiler.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { issuesFromZod, issuesOfError, validationErrorFromZod, validationErrorOf, type Issue } from '../../engine/shared/issues.ts';
import { parseCron } from '../../engine/triggers/cron-expression.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';
import type { QuarantineStore } from '../../engine/ports/quarantine.ts';

const NameParam = z.object({ name: NameSchema });
const WorkflowBody = z
  .object({})
  .passthrough()
  .describe('A stored workflow: the spec plus name, version, createdAt, updatedAt, and `paused: { by, at, reason? }` while its triggers are paused');
const errors = {
  400: errorResponse('Invalid input; `details.issues` names every field at fault at once (and line/column for scripts)'),
  401: errorResponse('Missing or wrong bearer token'),
  404: errorResponse('No such workflow'),
};

/** The API view: everything but the compiled script (an internal artefact). */
export function presentWorkflow(wf: Workflow): Omit<Workflow, 'compiled'> {
  const { compiled: _compiled, ...rest } = wf;
  return rest;
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
}

export function createWorkflowRoutes(deps: WorkflowRouteDeps) {
  const r = createRouter();
  const ceilings = deps.ceilings ?? DEFAULT_CEILINGS;
  const compiler = deps.compiler ?? sharedScriptCompiler();

  r.openapi(
    createRoute({
      method: 'put',
      path: '/workflows/{name}',
      summary: 'Create or replace a workflow (stores a new version)',
      request: { params: NameParam, body: { required: true, content: { 'application/json': { schema: WorkflowSpecSchema } } } },
      responses: { 200: { description: 'The stored workflow', content: { 'application/json': { schema: WorkflowBody } } }, ...errors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const spec = c.req.valid('json');
      const checked = await checkSpec(spec, [], ceilings, compiler);
      if (checked.issues.length || checked.compiled === undefined) throw validationErrorOf(checked.issues);
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
      summary: 'List workflows',
      responses: { 200: { description: 'Workflows', content: { 'application/json': { schema: z.object({ workflows: z.array(WorkflowBody) }) } } } },
    }),
    async (c) => c.json({ workflows: (await deps.workflows.list()).map(presentWorkflow) }, 200),
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
