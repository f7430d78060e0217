import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { describeDeployment } from '../render/deployments.ts';
import { describeGateway, type GatewayDescription, type RouteMetrics } from '../render/gateways.ts';
import { describeNotifier, type NotifierDescription } from '../render/notifiers.ts';
import { describeRun, type RunDescription } from '../render/runs.ts';
import { describeSecret } from '../render/secrets.ts';
import { describeWorkflow, type WorkflowDescription } from '../render/workflows.ts';
import {
  KINDS,
  gatewayStatus,
  getGateway,
  getWorkflow,
  resolveKind,
  workflowRuns,
  type Deployment,
  type KindName,
  type Run,
  type Secret,
} from '../resources.ts';

/** How many of the recent things `describe` shows: enough to see a trend, short enough to read. */
const RECENT = 5;
const LOG_LINES = 20;
const DELIVERIES = 10;

/** A workflow with what happens around it: pending signals, state, recent triggers and runs. */
async function workflowDescription(ctx: CommandContext, name: string): Promise<WorkflowDescription> {
  // The workflow first: a wrong name is one "not found", not five.
  const workflow = await getWorkflow(ctx, name);
  const c = await ctx.client();
  const path = { path: { name } };
  const [signals, state, triggers, runs] = await Promise.all([
    ctx.send(c.GET('/api/v1/workflows/{name}/signals', { params: path })),
    ctx.send(c.GET('/api/v1/workflows/{name}/state', { params: path })),
    ctx.send(c.GET('/api/v1/workflows/{name}/triggers', { params: { ...path, query: { limit: RECENT } } })),
    workflowRuns(ctx, name, RECENT),
  ]);
  return { workflow, signals: signals.signals, state: state.state, triggers: triggers.entries, runs };
}

/** A gateway, which agents serve which revision, and the last minute of metrics of each route. */
async function gatewayDescription(ctx: CommandContext, name: string): Promise<GatewayDescription> {
  const gateway = await getGateway(ctx, name);
  const c = await ctx.client();
  const routeMetrics = (route: string): Promise<RouteMetrics> =>
    ctx
      .send(c.GET('/api/v1/gateways/{name}/metrics', { params: { path: { name }, query: { window: '1m', route } } }))
      // Metrics are a view on the side: a store that does not answer must not hide the rest.
      .then((metrics) => ({ route, metrics }))
      .catch((err: Error) => ({ route, error: err.message }));
  const [status, metrics] = await Promise.all([gatewayStatus(ctx, name), Promise.all(Object.keys(gateway.routes).map(routeMetrics))]);
  return { gateway, status, metrics };
}

async function runDescription(ctx: CommandContext, id: string): Promise<RunDescription> {
  const run = (await resolveKind('runs').get(ctx, id)) as Run;
  const c = await ctx.client();
  // The API pages a log from its start; the last lines are the tail of the whole of it.
  const log = await ctx.send(c.GET('/api/v1/runs/{id}/logs', { params: { path: { id } } }));
  // JSON unless asked for a stream; the generated type also names the SSE text.
  const entries = typeof log === 'string' ? [] : log.entries;
  return { run, logs: entries.slice(-LOG_LINES) };
}

async function notifierDescription(ctx: CommandContext, name: string): Promise<NotifierDescription> {
  const notifier = (await resolveKind('notifiers').get(ctx, name)) as NotifierDescription['notifier'];
  const c = await ctx.client();
  const { deliveries } = await ctx.send(c.GET('/api/v1/notifiers/{name}/deliveries', { params: { path: { name }, query: { limit: DELIVERIES } } }));
  return { notifier, deliveries };
}

/** Each describable kind: what to fetch (the -o json object) and how to show it. */
const DESCRIBERS: Partial<Record<KindName, { load(ctx: CommandContext, name: string): Promise<unknown>; render(data: never): string }>> = {
  workflows: { load: workflowDescription, render: describeWorkflow },
  gateways: { load: gatewayDescription, render: describeGateway },
  runs: { load: runDescription, render: describeRun },
  notifiers: { load: notifierDescription, render: describeNotifier },
  deployments: { load: (ctx, name) => resolveKind('deployments').get(ctx, name), render: (d: Deployment) => describeDeployment(d) },
  secrets: { load: (ctx, name) => resolveKind('secrets').get(ctx, name), render: (s: Secret) => describeSecret(s) },
};

export function registerDescribe(program: Command, ctx: CommandContext): void {
  const kinds = KINDS.filter((k) => DESCRIBERS[k.name]);
  program
    .command('describe')
    .description('Show one object in detail with what happens around it (signals, state, agents, metrics, logs)')
    .argument('<kind>', kinds.map((k) => k.aliases.join('|')).join(', '))
    .argument('<name>', 'its name (a run: its id)')
    .addHelpText('after', '\nExamples:\n  veer describe workflow canary\n  veer describe gateway shop -o json\n  veer describe run <id>')
    .action(async (kindWord: string, name: string) => {
      const kind = resolveKind(kindWord);
      const describer = DESCRIBERS[kind.name];
      if (!describer) throw usageError(`cannot describe ${kind.name}: one of ${kinds.map((k) => k.name).join(', ')}`);
      const data = await describer.load(ctx, name);
      ctx.print(data, () => describer.render(data as never));
    });
}
