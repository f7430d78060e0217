import { api, call } from '../../api.ts';
import { useAsync, type Async } from '../../use-async.ts';

/**
 * Every canary release, reloaded while shown: a canary run is what changes it, at most once per
 * cron tick (10 s for the template), so this asks no more often. The answer reads every workflow
 * on the server, which is the other reason not to ask faster.
 */
export function useReleases(everyMs = 10_000): Async<Awaited<ReturnType<typeof loadReleases>>> {
  return useAsync(loadReleases, [], { everyMs });
}

const loadReleases = () => call(api.GET('/api/v1/releases'));
