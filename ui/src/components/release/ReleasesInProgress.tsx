import { ErrorNotice } from '../ErrorNotice.tsx';
import { Link } from '../../router.tsx';
import type { CanaryState } from './model.ts';
import { ReleasePanel } from './ReleasePanel.tsx';
import { useReleases } from './use-releases.ts';

/** The Overview's releases: those progressing or paused at a gate, each with its Promote / Abort. */
export function ReleasesInProgress() {
  const releases = useReleases();
  const active = (releases.data?.releases ?? []).filter((r) => {
    const phase = (r.release as CanaryState | null)?.phase;
    return phase === 'progressing' || phase === 'paused';
  });
  return (
    <section class="panel ov" aria-labelledby="ov-releases">
      <h2 id="ov-releases">Releases in progress</h2>
      <ErrorNotice error={releases.error} title="Could not load releases" />
      {releases.data && active.length === 0 ? <p class="muted">No release in progress.</p> : null}
      {active.map((r) => (
        <ReleasePanel key={r.workflow} release={r} onChanged={() => void releases.reload()} timeline={false} />
      ))}
      <p>
        <Link href="/releases">All releases</Link>
      </p>
    </section>
  );
}
