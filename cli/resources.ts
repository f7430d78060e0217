/**
 * The kinds of object the CLI reads (`veer get`, `veer describe`; manifests import the five that
 * have a `kind:`), their names on the command line, and how to list and fetch each over the API.
 * One table, so every command accepts the same words (`wf`, `gateway`, `deploy`…).
 */
import type { components, paths } from './api/schema.ts';
import type { CommandContext } from './context.ts';
import { usageError } from './errors.ts';

type Json<P extends keyof paths, M extends 'get'> = paths[P][M] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;

/** Labels and annotations: every manifest kind has them (objects stored before they existed: absent). */
export interface Metadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A stored workflow version as GET answers it (defaults filled in; `quarantined` on GET only). */
export type WorkflowView = components['schemas']['Workflow'];
export type GatewayView = components['schemas']['Gateway'];
export type RouteView = GatewayView['routes'][string];
/** What GET /gateways/{name}/status answers. */
export type GatewayStatusView = components['schemas']['GatewayStatus'];

export type Run = Json<'/api/v1/runs/{id}', 'get'>;
/** A workflow's newest run as its list row (GET /workflows?view=summary) shows it. */
export type LastRun = NonNullable<components['schemas']['WorkflowSummary']['lastRun']>;
export type Deployment = components['schemas']['Deployment'] & Metadata;
export type Notifier = components['schemas']['Notifier'] & Metadata;
export type Secret = components['schemas']['SecretMeta'] & Metadata;
export type VeerEvent = components['schemas']['Event'];
export type GatewayMetrics = components['schemas']['GatewayMetrics'];
export type Signal = components['schemas']['Signal'];
export type TriggerRecord = components['schemas']['TriggerRecord'];
export type LogEntry = Json<'/api/v1/runs/{id}/logs', 'get'>['entries'][number];
export type NotifierDelivery = components['schemas']['NotifierDelivery'];

/** What `get <kind>` narrows a list by (each kind reads the options that apply to it). */
export interface ListOptions {
  /** runs: of this workflow only */
  workflow?: string;
  /** runs, events: at most this many, newest first */
  limit?: number;
  /** events: every tag must be on the event */
  tags?: string[];
  /** events: of this type */
  type?: string;
}

export type KindName = 'workflows' | 'runs' | 'gateways' | 'deployments' | 'events' | 'notifiers' | 'secrets';

export interface KindDef<T = unknown> {
  name: KindName;
  /** The manifest `kind:` (absent: not declared in manifests: runs, events). */
  manifestKind?: 'Workflow' | 'Gateway' | 'Deployment' | 'Notifier' | 'Secret';
  /** Every word the command line accepts for it, the plural first. */
  aliases: string[];
  /** Whether objects of this kind carry labels (`-l` applies). */
  labelled: boolean;
  /** Events have no name to get one by. */
  named: boolean;
  list(ctx: CommandContext, options?: ListOptions): Promise<T[]>;
  get(ctx: CommandContext, name: string): Promise<T>;
}

const DEFAULT_LIMIT = 20;

async function listWorkflows(ctx: CommandContext): Promise<WorkflowView[]> {
  const c = await ctx.client();
  // Without view=summary the API answers whole workflows (the other member of the documented union).
  const data = (await ctx.send(c.GET('/api/v1/workflows'))) as { workflows: WorkflowView[] };
  return data.workflows.sort((a, b) => a.name.localeCompare(b.name));
}

export async function getWorkflow(ctx: CommandContext, name: string): Promise<WorkflowView> {
  const c = await ctx.client();
  return ctx.send(c.GET('/api/v1/workflows/{name}', { params: { path: { name } } }));
}

export async function workflowRuns(ctx: CommandContext, name: string, limit: number): Promise<Run[]> {
  const c = await ctx.client();
  return (await ctx.send(c.GET('/api/v1/workflows/{name}/runs', { params: { path: { name }, query: { limit } } }))).runs;
}

/** The API's largest page of workflow summaries. */
const SUMMARY_PAGE = 200;

/**
 * The newest run of each named workflow, from the summary list (one request per 200
 * workflows, not one per workflow). One name asks only for the rows containing it.
 */
export async function lastRuns(ctx: CommandContext, names: readonly string[]): Promise<Map<string, LastRun>> {
  const c = await ctx.client();
  const wanted = new Set(names);
  const found = new Map<string, LastRun>();
  const q = names.length === 1 ? names[0] : undefined;
  for (let offset = 0; ; offset += SUMMARY_PAGE) {
    const page = (await ctx.send(
      c.GET('/api/v1/workflows', { params: { query: { view: 'summary', limit: SUMMARY_PAGE, offset, ...(q ? { q } : {}) } } }),
    )) as components['schemas']['WorkflowSummaryPage'];
    for (const w of page.workflows) if (wanted.has(w.name) && w.lastRun) found.set(w.name, w.lastRun);
    if (page.workflows.length < SUMMARY_PAGE || offset + SUMMARY_PAGE >= page.total) return found;
  }
}

/** Runs of one workflow, or of every workflow newest first (GET /runs, paged by its cursor: one request per 200 runs). */
async function listRuns(ctx: CommandContext, options: ListOptions = {}): Promise<Run[]> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  if (options.workflow) return workflowRuns(ctx, options.workflow, limit);
  const c = await ctx.client();
  const runs: Run[] = [];
  let before: string | undefined;
  do {
    const page = await ctx.send(
      c.GET('/api/v1/runs', { params: { query: { limit: Math.min(RUNS_PAGE, limit - runs.length), ...(before ? { before } : {}) } } }),
    );
    runs.push(...page.runs);
    before = page.next;
  } while (before && runs.length < limit);
  return runs;
}

/** The API's largest page of runs. */
const RUNS_PAGE = 200;

export async function listGateways(ctx: CommandContext): Promise<GatewayView[]> {
  const c = await ctx.client();
  const data = await ctx.send(c.GET('/api/v1/gateways'));
  return data.gateways.sort((a, b) => a.name.localeCompare(b.name));
}

export async function getGateway(ctx: CommandContext, name: string): Promise<GatewayView> {
  const c = await ctx.client();
  return ctx.send(c.GET('/api/v1/gateways/{name}', { params: { path: { name } } }));
}

export async function gatewayStatus(ctx: CommandContext, name: string): Promise<GatewayStatusView> {
  const c = await ctx.client();
  return ctx.send(c.GET('/api/v1/gateways/{name}/status', { params: { path: { name } } }));
}

async function listEvents(ctx: CommandContext, options: ListOptions = {}): Promise<VeerEvent[]> {
  const c = await ctx.client();
  const query = {
    limit: options.limit ?? DEFAULT_LIMIT,
    ...(options.tags?.length ? { tag: options.tags } : {}),
    ...(options.type ? { type: options.type } : {}),
  };
  return (await ctx.send(c.GET('/api/v1/events', { params: { query } }))).events;
}

export const KINDS: readonly KindDef[] = [
  {
    name: 'workflows',
    manifestKind: 'Workflow',
    aliases: ['workflows', 'workflow', 'wf'],
    labelled: true,
    named: true,
    list: listWorkflows,
    get: getWorkflow,
  } satisfies KindDef<WorkflowView>,
  {
    name: 'runs',
    aliases: ['runs', 'run'],
    labelled: false,
    named: true,
    list: listRuns,
    async get(ctx, id) {
      const c = await ctx.client();
      return ctx.send(c.GET('/api/v1/runs/{id}', { params: { path: { id } } }));
    },
  } satisfies KindDef<Run>,
  {
    name: 'gateways',
    manifestKind: 'Gateway',
    aliases: ['gateways', 'gateway', 'gw'],
    labelled: true,
    named: true,
    list: listGateways,
    get: getGateway,
  } satisfies KindDef<GatewayView>,
  {
    name: 'deployments',
    manifestKind: 'Deployment',
    aliases: ['deployments', 'deployment', 'deploy'],
    labelled: true,
    named: true,
    async list(ctx) {
      const c = await ctx.client();
      return (await ctx.send(c.GET('/api/v1/deployments'))).deployments.sort((a, b) => a.name.localeCompare(b.name));
    },
    async get(ctx, name) {
      const c = await ctx.client();
      return ctx.send(c.GET('/api/v1/deployments/{name}', { params: { path: { name } } }));
    },
  } satisfies KindDef<Deployment>,
  {
    name: 'events',
    aliases: ['events', 'event'],
    labelled: false,
    named: false,
    list: listEvents,
    get: () => Promise.reject(usageError('events have no name to get one by: narrow the list with --tag, --type and --limit')),
  } satisfies KindDef<VeerEvent>,
  {
    name: 'notifiers',
    manifestKind: 'Notifier',
    aliases: ['notifiers', 'notifier'],
    labelled: true,
    named: true,
    async list(ctx) {
      const c = await ctx.client();
      return (await ctx.send(c.GET('/api/v1/notifiers'))).notifiers.sort((a, b) => a.name.localeCompare(b.name));
    },
    async get(ctx, name) {
      const c = await ctx.client();
      return ctx.send(c.GET('/api/v1/notifiers/{name}', { params: { path: { name } } }));
    },
  } satisfies KindDef<Notifier>,
  {
    name: 'secrets',
    manifestKind: 'Secret',
    aliases: ['secrets', 'secret'],
    labelled: true,
    named: true,
    async list(ctx) {
      const c = await ctx.client();
      return (await ctx.send(c.GET('/api/v1/secrets'))).secrets;
    },
    async get(ctx, name) {
      const c = await ctx.client();
      return ctx.send(c.GET('/api/v1/secrets/{name}', { params: { path: { name } } }));
    },
  } satisfies KindDef<Secret>,
] as KindDef[];

/** The kind a command-line word names (`wf`, `gateway`, `deployments`…), or a usage error listing them. */
export function resolveKind(word: string): KindDef {
  const w = word.toLowerCase();
  const kind = KINDS.find((k) => k.aliases.includes(w));
  if (!kind) throw usageError(`unknown kind '${word}': one of ${KINDS.map((k) => k.aliases.join('|')).join(', ')}`);
  return kind;
}

/** One term of a label selector: `app=shop`, `app!=shop`, or `app` (the label is set). */
export interface SelectorTerm {
  key: string;
  op: '=' | '!=' | 'exists';
  value?: string;
}

/** `-l app=shop,tier!=db,canary` → terms; a usage error naming the flag for a malformed one. */
export function parseSelector(flag: string, text: string): SelectorTerm[] {
  const terms: SelectorTerm[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^([A-Za-z0-9][A-Za-z0-9._/-]*)\s*(?:(!=|==|=)\s*(\S*))?$/.exec(part);
    if (!m) throw usageError(`${flag}: '${part}' is not key=value, key!=value or key`);
    const [, key, op, value] = m;
    terms.push(op === undefined ? { key: key!, op: 'exists' } : { key: key!, op: op === '!=' ? '!=' : '=', value: value ?? '' });
  }
  return terms;
}

/** Whether an object's labels match every term (no labels: an empty set). */
export function matchesSelector(labels: Record<string, string> | undefined, terms: SelectorTerm[]): boolean {
  const l = labels ?? {};
  return terms.every((t) => {
    const has = Object.hasOwn(l, t.key);
    if (t.op === 'exists') return has;
    if (t.op === '=') return has && l[t.key] === t.value;
    return !has || l[t.key] !== t.value;
  });
}
