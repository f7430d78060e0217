import { ReleasesInProgress } from '../components/release/ReleasesInProgress.tsx';
import { useEffect, useRef } from 'preact/hooks';
import { api, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { EventsTable } from '../components/events/EventsTable.tsx';
import { useLiveEvents } from '../components/events/useLiveEvents.ts';
import { PageHeader } from '../components/Layout.tsx';
import { RunsTable } from '../components/runs/RunsTable.tsx';
import { Status } from '../components/Status.tsx';
import { Link } from '../router.tsx';
import { useAsync } from '../use-async.ts';

/** Small pages only: this is the first page, and must be quick with thousands of workflows and runs. */
const LIST = 10;
/** Readiness changes rarely; its checks are cheap (one ping, one engine list). */
const READY_POLL_MS = 30_000;
/** Run lists are re-read on run events, at most this often. */
const RUNS_REFRESH_MS = 5000;

interface Check {
  ok?: boolean;
  detail?: string;
  [key: string]: unknown;
}

/** GET /readyz: 200 when ready, 503 (same body) when not; both are an answer to show. */
async function loadReadiness(): Promise<{ ok: boolean; checks: Record<string, Check> }> {
  const { data, error, response } = await api.GET('/readyz');
  const body = (data ?? error) as { ok?: boolean; checks?: Record<string, Check> } | undefined;
  if (!body?.checks) throw new Error(`readiness check answered HTTP ${response.status}`);
  return { ok: body.ok === true, checks: body.checks };
}

/** Fields of a check besides ok/detail (e.g. a list of agents with their applied revisions), compactly. */
function Extra(props: { check: Check }) {
  const rest = Object.entries(props.check).filter(([k]) => k !== 'ok' && k !== 'detail');
  if (rest.length === 0) return null;
  return (
    <ul class="check-extra">
      {rest.map(([k, v]) =>
        Array.isArray(v) ? (
          <li key={k}>
            {k}:
            <ul>
              {v.map((item, i) => (
                <li key={i}>
                  <code>{typeof item === 'object' ? JSON.stringify(item) : String(item)}</code>
                </li>
              ))}
            </ul>
          </li>
        ) : (
          <li key={k}>
            {k}: <code>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</code>
          </li>
        ),
      )}
    </ul>
  );
}

function Readiness() {
  const ready = useAsync(loadReadiness, [], { everyMs: READY_POLL_MS });
  return (
    <section class="panel ov" aria-labelledby="ov-ready">
      <h2 id="ov-ready">Readiness {ready.data ? <Status value={ready.data.ok ? 'ready' : 'not-ready'} /> : null}</h2>
      <ErrorNotice error={ready.error} title="Could not check readiness" />
      {ready.data ? (
        <ul class="checks">
          {Object.entries(ready.data.checks).map(([name, check]) => (
            <li key={name}>
              <Status value={check.ok ? 'ok' : 'error'} /> <strong>{name}</strong>
              {check.detail ? <span class="muted"> — {check.detail}</span> : null}
              <Extra check={check} />
            </li>
          ))}
        </ul>
      ) : ready.loading ? (
        <p aria-busy="true">Checking…</p>
      ) : null}
      <Agents />
    </section>
  );
}

/** Agents report every few seconds (5 s by default): read as often, no faster. */
const AGENTS_POLL_MS = 5000;

/** The gateway agents: alive or not, their HAProxy, and the revision each serves of every gateway. */
function Agents() {
  const agents = useAsync(() => call(api.GET('/api/v1/agents')), [], { everyMs: AGENTS_POLL_MS });
  const list = agents.data?.agents ?? [];
  return (
    <>
      <h3>Gateway agents</h3>
      <ErrorNotice error={agents.error} title="Could not list the agents" />
      {agents.data && list.length === 0 ? <p class="muted">No gateway agent has reported (one runs beside each HAProxy: npm run gateway-agent).</p> : null}
      <ul class="checks">
        {list.map((a) => (
          <li key={a.agentId}>
            <Status value={a.alive && a.haproxyRunning ? 'ok' : 'error'} /> <strong>{a.agentId}</strong>
            <span class="muted">
              {' '}
              — {a.alive ? 'alive' : 'not heard from'}, HAProxy {a.haproxyRunning ? 'running' : 'not running'}
            </span>
            {Object.keys(a.gateways).length ? (
              <ul class="check-extra">
                {Object.entries(a.gateways).map(([name, g]) => (
                  <li key={name}>
                    <Link href={`/gateways/${encodeURIComponent(name)}`}>{name}</Link> at revision {g.appliedRevision ?? 'none yet'}
                    {g.error ? <span class="muted"> — {g.error}</span> : null}
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}

function runsOf(status: string) {
  return () => call(api.GET('/api/v1/runs', { params: { query: { limit: LIST, status } } }));
}

function RunList(props: { id: string; title: string; status: string; runs: ReturnType<typeof useRunList>; empty: string }) {
  const { runs } = props;
  return (
    <section class="panel ov" aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      <ErrorNotice error={runs.error} title={`Could not load ${props.title.toLowerCase()}`} />
      {runs.data ? (
        <RunsTable runs={runs.data.runs} caption={props.title} captionHidden empty={runs.data.next ? `${props.empty} (among the latest runs)` : props.empty} />
      ) : runs.loading ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
      <p>
        <Link href={`/runs?status=${encodeURIComponent(props.status)}`}>All {props.title.toLowerCase()}</Link>
      </p>
    </section>
  );
}

function useRunList(status: string) {
  return useAsync(runsOf(status), [status]);
}

/** The first page: is Veer ready, what runs now, what failed lately, what is being released, what happened. */
export function Overview() {
  const running = useRunList('running');
  const failed = useRunList('failed,timed_out');
  // Run lifecycle events (tag group `runs`) say when the run lists change: re-read them then, throttled.
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const onEvent = (e: { type: string }) => {
    if (!e.type.startsWith('run.') || timer.current) return;
    timer.current = setTimeout(
      () => {
        timer.current = undefined;
        last.current = Date.now();
        void running.reload();
        void failed.reload();
      },
      Math.max(0, RUNS_REFRESH_MS - (Date.now() - last.current)),
    );
  };
  const recent = useLiveEvents({ tag: '', type: '', first: LIST, cap: LIST, onEvent });
  return (
    <>
      <PageHeader title="Overview" />
      <div class="grid overview-grid">
        <Readiness />
        <ReleasesInProgress />
      </div>
      <RunList id="ov-running" title="Running runs" status="running" runs={running} empty="No runs are running." />
      <RunList id="ov-failed" title="Recently failed runs" status="failed,timed_out" runs={failed} empty="No failed runs lately." />
      <section class="panel ov" aria-labelledby="ov-events">
        <h2 id="ov-events">Recent events</h2>
        <ErrorNotice error={recent.error} title="Could not load events" />
        <EventsTable events={recent.events} caption="Recent events" captionHidden empty={recent.loading ? 'Loading…' : 'No events yet.'} />
        <p>
          <Link href="/events">All events</Link>
        </p>
      </section>
    </>
  );
}
