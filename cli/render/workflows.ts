import { formatTable, paintStatus, relativeTime } from '../output.ts';
import type { LastRun, Run, Signal, TriggerRecord, WorkflowView } from '../resources.ts';
import { runsTable } from './runs.ts';
import { SOURCE_ANNOTATION, fields, keyValues, section, shortJson, yesNo } from './text.ts';

/** `cron 0 9 * * 1-5`, `events type=deploy tags=shop`, `elasticsearch logs every 10s`, `signals`, `manual`. */
export function triggerText(trigger: Record<string, unknown> | undefined): string {
  if (!trigger) return 'manual';
  const signals = trigger.signals === true;
  let text: string;
  if (typeof trigger.cron === 'string') {
    const tz = typeof trigger.timezone === 'string' && trigger.timezone !== 'UTC' ? ` (${trigger.timezone})` : '';
    text = `cron ${trigger.cron}${tz}`;
  } else if (trigger.events && typeof trigger.events === 'object') {
    const e = trigger.events as { type?: string; tags?: string[]; sources?: string[] };
    const parts = [e.type ? `type=${e.type}` : '', e.tags?.length ? `tags=${e.tags.join(',')}` : '', e.sources?.length ? `sources=${e.sources.join(',')}` : ''];
    text = ['events', ...parts.filter(Boolean)].join(' ');
  } else if (trigger.elasticsearch && typeof trigger.elasticsearch === 'object') {
    const es = trigger.elasticsearch as { index?: string; every?: string };
    text = `elasticsearch ${es.index ?? '?'} every ${es.every ?? '10s'}`;
  } else {
    return signals ? 'signals' : 'manual';
  }
  return signals ? `${text} +signals` : text;
}

/** "succeeded 5s ago" for the LAST RUN column: when it ended, or else when it was queued. */
export function lastRunText(run: LastRun | undefined): string {
  if (!run) return '';
  return `${paintStatus(run.status)} ${relativeTime(run.finishedAt ?? run.createdAt)}`;
}

export function workflowsTable(items: Array<{ workflow: WorkflowView; lastRun?: LastRun }>): string {
  return formatTable(
    ['NAME', 'TRIGGER', 'PAUSED', 'VERSION', 'LAST RUN', 'UPDATED'],
    items.map(({ workflow: w, lastRun }) => [w.name, triggerText(w.trigger), yesNo(!!w.paused), w.version, lastRunText(lastRun), relativeTime(w.updatedAt)]),
  );
}

/** What `veer describe workflow` puts together (also its -o json shape). */
export interface WorkflowDescription {
  workflow: WorkflowView;
  signals: Signal[];
  state: Record<string, unknown>;
  triggers: TriggerRecord[];
  runs: Run[];
}

function pausedText(w: WorkflowView): string {
  if (!w.paused) return 'no';
  const why = w.paused.reason ? `: ${w.paused.reason}` : '';
  return `yes, by ${w.paused.by} ${relativeTime(w.paused.at)}${why}`;
}

/** `gateways: shop, shop-*` per permission; deployments with their instance bounds. */
function permissionsText(p: Record<string, unknown> | undefined): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(p ?? {})) {
    if (Array.isArray(v)) {
      if (v.length) lines.push(`${k}: ${v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')}`);
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, { minInstances?: number; maxInstances?: number }>);
      if (entries.length) lines.push(`${k}: ${entries.map(([n, b]) => `${n} (${b.minInstances ?? 0}..${b.maxInstances ?? 100})`).join(', ')}`);
    }
  }
  return lines.join('\n');
}

const inline = (record: Record<string, unknown> | undefined) =>
  Object.entries(record ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

export function describeWorkflow(d: WorkflowDescription): string {
  const w = d.workflow;
  const annotations = w.annotations ?? {};
  let out = fields([
    ['Name', w.name],
    ['Description', w.description],
    ['Version', w.version],
    ['Enabled', yesNo(w.enabled ?? true)],
    ['Paused', pausedText(w)],
    ['Trigger', triggerText(w.trigger)],
    ['Overlap', w.overlap],
    ['Source', annotations[SOURCE_ANNOTATION]],
    ['Created', w.createdAt ? `${w.createdAt} (${relativeTime(w.createdAt)})` : undefined],
    ['Updated', w.updatedAt ? `${w.updatedAt} (${relativeTime(w.updatedAt)})` : undefined],
    ['Limits', inline(w.limits)],
    ['Retries', inline(w.retries)],
    ...(w.quarantined ? [['Quarantined', shortJson(w.quarantined, 200)] as [string, string]] : []),
  ]);
  out += section('Labels', keyValues(w.labels));
  out += section('Annotations', keyValues(annotations));
  out += section('Env', keyValues(w.env));
  out += section('Permissions', permissionsText(w.permissions));
  out += section(
    'Pending signals',
    d.signals.length
      ? formatTable(
          ['NAME', 'SENT', 'BY', 'VALUE'],
          d.signals.map((s) => [s.name, relativeTime(s.sentAt), s.sentBy, shortJson(s.value)]),
        )
      : '',
  );
  out += section(
    'State',
    Object.entries(d.state)
      .map(([k, v]) => `${k}: ${shortJson(v, 80)}`)
      .join('\n'),
  );
  out += section(
    'Recent triggers',
    d.triggers.length
      ? formatTable(
          ['AT', 'TRIGGER', 'OUTCOME', 'REASON', 'RUN'],
          d.triggers.map((t) => [
            relativeTime(t.at),
            t.trigger,
            t.outcome,
            t.reason ? `${t.reason}${t.count && t.count > 1 ? ` ×${t.count}` : ''}` : '',
            t.runId,
          ]),
        )
      : '',
  );
  out += section('Last runs', d.runs.length ? runsTable(d.runs) : '');
  return out;
}
