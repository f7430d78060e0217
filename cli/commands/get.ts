import type { Command } from 'commander';
import { collect, parseInterval, parseWhole } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { FAN_OUT, mapLimit } from '../map-limit.ts';
import { formatData } from '../output.ts';
import { deploymentsTable } from '../render/deployments.ts';
import { eventsTable } from '../render/events.ts';
import { gatewaysTable } from '../render/gateways.ts';
import { notifiersTable } from '../render/notifiers.ts';
import { runsTable } from '../render/runs.ts';
import { secretsTable } from '../render/secrets.ts';
import { workflowsTable } from '../render/workflows.ts';
import {
  KINDS,
  gatewayStatus,
  matchesSelector,
  parseSelector,
  resolveKind,
  lastRuns,
  type Deployment,
  type GatewayView,
  type KindName,
  type ListOptions,
  type Metadata,
  type Notifier,
  type Run,
  type Secret,
  type VeerEvent,
  type WorkflowView,
} from '../resources.ts';
import { watch } from '../watch.ts';

interface GetOptions {
  workflow?: string;
  limit?: string;
  tag: string[];
  type?: string;
  selector?: string;
  watch?: boolean;
  interval: string;
}

/**
 * The table of each kind. Workflows are shown with their last run (from the summary list, one
 * call per 200); gateways with whether the current revision is live (one call per gateway, in parallel).
 */
const TABLES: Record<KindName, (ctx: CommandContext, items: never[]) => Promise<string>> = {
  workflows: async (ctx, items: WorkflowView[]) => {
    const last = await lastRuns(
      ctx,
      items.map((w) => w.name),
    );
    return workflowsTable(items.map((workflow) => ({ workflow, lastRun: last.get(workflow.name) })));
  },
  runs: async (_ctx, items: Run[]) => runsTable(items),
  gateways: async (ctx, items: GatewayView[]) =>
    // A status that cannot be read leaves LIVE empty rather than failing the whole list.
    gatewaysTable(
      await mapLimit(items, FAN_OUT, async (gateway) => ({ gateway, live: (await gatewayStatus(ctx, gateway.name).catch(() => undefined))?.live })),
    ),
  deployments: async (_ctx, items: Deployment[]) => deploymentsTable(items),
  events: async (_ctx, items: VeerEvent[]) => eventsTable(items),
  notifiers: async (_ctx, items: Notifier[]) => notifiersTable(items),
  secrets: async (_ctx, items: Secret[]) => secretsTable(items),
};

export function registerGet(program: Command, ctx: CommandContext): void {
  program
    .command('get')
    .description('List objects of a kind as a table (or one by name)')
    .argument('<kind>', KINDS.map((k) => k.aliases.join('|')).join(', '))
    .argument('[name]', 'one object (a run: its id)')
    .option('--workflow <name>', 'runs: of this workflow only (default: every workflow, newest first)')
    .option('--limit <n>', 'runs, events: at most this many, newest first (default 20)')
    .option('--tag <tag>', 'events: carrying this tag (repeatable: every tag)', collect, [])
    .option('--type <type>', 'events: of this type')
    .option('-l, --selector <labels>', 'only objects whose labels match: app=shop,tier!=db,canary')
    .option('-w, --watch', 'show the table again every --interval until Ctrl-C')
    .option('--interval <duration>', 'how often --watch refreshes', '2s')
    .addHelpText(
      'after',
      '\nExamples:\n  veer get workflows -l app=shop\n  veer get runs --workflow canary --limit 5 --watch\n  veer get events --tag shop --type deploy\n  veer get gateway shop -o json',
    )
    .action(async (kindWord: string, name: string | undefined, o: GetOptions) => {
      const kind = resolveKind(kindWord);
      if (name !== undefined && !kind.named) throw usageError(`${kind.name} have no names: narrow the list with --tag, --type and --limit`);
      const terms = o.selector === undefined ? undefined : parseSelector('-l/--selector', o.selector);
      if (terms && !kind.labelled)
        throw usageError(
          `-l/--selector: ${kind.name} have no labels (it applies to ${KINDS.filter((k) => k.labelled)
            .map((k) => k.name)
            .join(', ')})`,
        );
      if (terms && name !== undefined) throw usageError('-l/--selector: give a name or a selector, not both');
      if (o.workflow !== undefined && kind.name !== 'runs') throw usageError('--workflow: only for get runs');
      if ((o.tag.length || o.type !== undefined) && kind.name !== 'events') throw usageError('--tag/--type: only for get events');
      const options: ListOptions = {
        workflow: o.workflow,
        limit: o.limit === undefined ? undefined : parseWhole('--limit', o.limit, 1, 1000),
        tags: o.tag,
        type: o.type,
      };
      const intervalMs = parseInterval('--interval', o.interval);
      const format = ctx.format();

      const frame = async (): Promise<string> => {
        if (name !== undefined) {
          const one = await kind.get(ctx, name);
          return format === 'table' ? TABLES[kind.name](ctx, [one] as never[]) : formatData(one, format);
        }
        let items = await kind.list(ctx, options);
        if (terms) items = items.filter((x) => matchesSelector((x as Metadata).labels, terms));
        if (format !== 'table') return formatData(items, format);
        return items.length ? TABLES[kind.name](ctx, items as never[]) : `No ${kind.name} found${terms ? ` matching ${o.selector}` : ''}.\n`;
      };

      if (o.watch) await watch(frame, { intervalMs, signal: ctx.signal });
      else ctx.out(await frame());
    });
}
