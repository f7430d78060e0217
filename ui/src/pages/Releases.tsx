import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { ReleasePanel } from '../components/release/ReleasePanel.tsx';
import { useReleases } from '../components/release/use-releases.ts';
import { Link } from '../router.tsx';

/** Every workflow running the built-in canary release, each as a release panel. */
export function Releases() {
  const releases = useReleases();
  const list = releases.data?.releases;
  return (
    <>
      <PageHeader title="Releases">
        <button type="button" onClick={() => void releases.reload()} disabled={releases.loading}>
          Refresh
        </button>
      </PageHeader>
      <ErrorNotice error={releases.error} title="Could not load releases" />
      {list ? (
        list.length === 0 ? (
          <p class="muted">
            No canary releases: a release is a workflow running the built-in canary-release script (see <Link href="/workflows">Workflows</Link>, template{' '}
            <code>canary-release</code>).
          </p>
        ) : (
          list.map((r) => <ReleasePanel key={r.workflow} release={r} onChanged={() => void releases.reload()} />)
        )
      ) : releases.loading ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
    </>
  );
}
