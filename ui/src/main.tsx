import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorNotice } from './components/ErrorNotice.tsx';
import { Layout } from './components/Layout.tsx';
import { Deployments } from './pages/Deployments.tsx';
import { Events } from './pages/Events.tsx';
import { Gateway } from './pages/Gateway.tsx';
import { Gateways } from './pages/Gateways.tsx';
import { Login } from './pages/Login.tsx';
import { Notifiers } from './pages/Notifiers.tsx';
import { Overview } from './pages/Overview.tsx';
import { Releases } from './pages/Releases.tsx';
import { Run } from './pages/Run.tsx';
import { Runs } from './pages/Runs.tsx';
import { Secrets } from './pages/Secrets.tsx';
import { Workflows } from './pages/Workflows.tsx';
import { match, useLocation } from './router.tsx';
import { loadSession, useMe } from './session.ts';
import './styles.css';

// The workflow page carries the script editor (CodeMirror): loaded when first opened, so the
// first page does not wait for it.
const loadWorkflow = () => import('./pages/Workflow.tsx').then((m) => m.Workflow);
type WorkflowPage = Awaited<ReturnType<typeof loadWorkflow>>;

function LazyWorkflow(props: { name: string }) {
  const [Page, setPage] = useState<WorkflowPage | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    loadWorkflow().then((p) => setPage(() => p), setError);
  }, []);
  if (error) return <ErrorNotice error={error} title="Could not load the page" />;
  return Page ? <Page name={props.name} /> : <p aria-busy="true">Loading…</p>;
}

const ROUTES: Array<[pattern: string, page: (p: Record<string, string>) => preact.JSX.Element]> = [
  ['/', () => <Overview />],
  ['/workflows', () => <Workflows />],
  ['/workflows/:name', (p) => <LazyWorkflow name={p.name!} />],
  ['/runs', () => <Runs />],
  ['/runs/:id', (p) => <Run id={p.id!} />],
  ['/releases', () => <Releases />],
  ['/gateways', () => <Gateways />],
  ['/gateways/:name', (p) => <Gateway name={p.name!} />],
  ['/deployments', () => <Deployments />],
  ['/events', () => <Events />],
  ['/notifiers', () => <Notifiers />],
  ['/secrets', () => <Secrets />],
];

function App() {
  const me = useMe();
  const { path } = useLocation();
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    loadSession().catch(setError);
  }, []);
  useEffect(() => {
    // Each page names itself in the tab; a route change moves focus to the content for screen readers.
    const title = document.querySelector('main h1')?.textContent;
    document.title = title ? `${title} · Veer` : 'Veer';
  });
  if (error) return <ErrorNotice error={error} title="Cannot reach the Veer API" />;
  if (me === undefined) return <p aria-busy="true">Loading…</p>;
  if (me === null) return <Login />;
  for (const [pattern, page] of ROUTES) {
    const params = match(pattern, path);
    if (params) return <Layout key={pattern}>{page(params)}</Layout>;
  }
  return (
    <Layout>
      <h1>Not found</h1>
      <p>No page at {path}.</p>
    </Layout>
  );
}

render(<App />, document.getElementById('app')!);
