import type { VeerEvent } from '../domain/event.ts';

/**
 * What a notifier POSTs for an event. `json`: `{ notifier, event }` with the event as the
 * events API returns it. `slack`: Slack's incoming-webhook body `{ text }`, one readable line
 * naming the key values of Veer's own events (a rollback, weights, a scale, a run's end, an
 * alert, a skipped trigger, a signal) and `type [tags]: compact value` for anything else.
 */
export type NotifierFormat = 'json' | 'slack';

export function formatBody(format: NotifierFormat, notifier: string, event: VeerEvent): string {
  return format === 'slack' ? JSON.stringify({ text: slackText(event) }) : JSON.stringify({ notifier, event });
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const weights = (v: unknown): Record<string, number> =>
  isObj(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, number] => typeof e[1] === 'number')) : {};

/** The longest compact value a generic line carries before it is cut. */
const MAX_VALUE_CHARS = 300;

/** JSON on one line, cut to a readable length. */
function compact(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json.length > MAX_VALUE_CHARS ? `${json.slice(0, MAX_VALUE_CHARS)}…` : json;
}

/** `canary 10→0, stable 90→100` for the routes whose weight changed (all of them when none did). */
function weightChanges(before: unknown, after: unknown): string {
  const b = weights(before);
  const a = weights(after);
  const routes = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  const changed = routes.filter((r) => b[r] !== a[r]);
  return (changed.length ? changed : routes).map((r) => `${r} ${b[r] ?? '-'}→${a[r] ?? '-'}`).join(', ');
}

const listWeights = (v: unknown): string =>
  Object.entries(weights(v))
    .map(([r, w]) => `${r} ${w}`)
    .join(', ');

/** ` — run <id>` (and its workflow) when the event says which run caused it. */
function byRun(v: Obj): string {
  const run = str(v.runId);
  const wf = str(v.workflow);
  if (!run) return '';
  return ` — run ${run}${wf ? ` (${wf})` : ''}`;
}

function snapshot(v: unknown): string {
  if (!isObj(v)) return compact(v);
  return ['instances', 'cpu', 'memory']
    .filter((k) => v[k] !== undefined && v[k] !== null)
    .map((k) => `${k} ${str(v[k]) ?? compact(v[k])}`)
    .join(', ');
}

function scaleChanges(before: unknown, after: unknown): string {
  const b = isObj(before) ? before : {};
  const a = isObj(after) ? after : {};
  const parts = ['instances', 'cpu', 'memory'].filter((k) => b[k] !== a[k]).map((k) => `${k} ${str(b[k]) ?? '-'}→${str(a[k]) ?? '-'}`);
  return parts.length ? parts.join(', ') : `no change (${snapshot(after)})`;
}

/** Alerts as Alertmanager and Prometheus name them: `alertname`, in `labels` or at the top. */
function alertName(v: Obj): string {
  const labels = isObj(v.labels) ? v.labels : {};
  return str(v.alertname) ?? str(labels.alertname) ?? str(v.name) ?? str(v.alert) ?? str(v.id) ?? 'alert';
}

function alertSummary(v: Obj): string {
  const ann = isObj(v.annotations) ? v.annotations : {};
  return str(v.summary) ?? str(ann.summary) ?? str(ann.description) ?? '';
}

function alertLabels(v: Obj): string {
  const labels = isObj(v.labels) ? v.labels : {};
  const shown = Object.entries(labels).filter(([k]) => k !== 'alertname');
  return shown.length ? ` {${shown.map(([k, val]) => `${k}=${str(val) ?? compact(val)}`).join(', ')}}` : '';
}

const generic = (e: VeerEvent): string => `${e.type} [${e.tags.join(', ')}]: ${compact(e.value)}`;

type Line = (v: Obj) => string;

const LINES: Record<string, Line> = {
  'gateway.rolled_back': (v) => {
    const cause = [str(v.cause), str(v.reason)].filter(Boolean).join(': ');
    return `:rewind: gateway ${str(v.gateway) ?? '?'} rolled back: ${weightChanges(v.before, v.after)}${cause ? ` (cause: ${cause})` : ''}${byRun(v)}`;
  },
  'gateway.weights': (v) => `:twisted_rightwards_arrows: gateway ${str(v.gateway) ?? '?'} weights: ${weightChanges(v.before, v.after)}${byRun(v)}`,
  'gateway.updated': (v) => {
    const action = str(v.action) ?? 'updated';
    const w = listWeights(v.weights);
    return `:gear: gateway ${str(v.gateway) ?? '?'} ${action}${w ? ` (${w})` : ''}${str(v.revision) ? `, revision ${str(v.revision)}` : ''}`;
  },
  'deployment.scaled': (v) => `:straight_ruler: deployment ${str(v.deployment) ?? '?'} scaled: ${scaleChanges(v.before, v.after)}${byRun(v)}`,
  'run.succeeded': (v) =>
    `:white_check_mark: run ${str(v.runId) ?? '?'} of ${str(v.workflow) ?? '?'}${str(v.version) ? ` v${str(v.version)}` : ''} succeeded${typeof v.durationMs === 'number' ? ` in ${v.durationMs} ms` : ''}`,
  'run.failed': (v) => {
    const code = isObj(v.error) ? str(v.error.code) : undefined;
    return `:x: run ${str(v.runId) ?? '?'} of ${str(v.workflow) ?? '?'}${str(v.version) ? ` v${str(v.version)}` : ''} failed${code ? `: ${code}` : ''}${typeof v.durationMs === 'number' ? ` after ${v.durationMs} ms` : ''}`;
  },
  'alert.firing': (v) => {
    const summary = alertSummary(v);
    return `:rotating_light: alert ${alertName(v)} firing${alertLabels(v)}${summary ? `: ${summary}` : ''}`;
  },
  'alert.resolved': (v) => {
    const summary = alertSummary(v);
    return `:large_green_circle: alert ${alertName(v)} resolved${alertLabels(v)}${summary ? `: ${summary}` : ''}`;
  },
  'trigger.skipped': (v) => {
    const kind = str(v.trigger);
    const about = [str(v.runId) && `run ${str(v.runId)}`, str(v.eventId) && `event ${str(v.eventId)}`].filter(Boolean).join(', ');
    return `:fast_forward: ${kind ? `${kind} ` : ''}trigger of ${str(v.workflow) ?? '?'} skipped: ${str(v.reason) ?? '?'}${about ? ` (${about})` : ''}`;
  },
  'workflow.signal': (v) => {
    const sig = isObj(v.signal) ? v.signal : {};
    return `:vertical_traffic_light: signal ${str(sig.name) ?? '?'} sent to ${str(v.workflow) ?? '?'}${str(sig.sentBy) ? ` by ${str(sig.sentBy)}` : ''}`;
  },
};

/** The one line for Slack; any event Veer has no wording for (or whose value is not as expected) gets the generic line. */
export function slackText(event: VeerEvent): string {
  const line = Object.hasOwn(LINES, event.type) ? LINES[event.type] : undefined;
  return slackEscape(line && isObj(event.value) ? line(event.value) : generic(event));
}

/** Slack reads `<…>` as links and mentions and `&` as an entity: the three it asks senders to escape. */
const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
