import { areaCode } from '../../engine/shared/error-catalogue.ts';
import { UnavailableError, type VeerError } from '../../engine/shared/errors.ts';
import { errorArea, type EsArea } from './errors.ts';

/** What a search answer says about its completeness (`_shards.failed`, `timed_out`). */
interface SearchCompleteness {
  timed_out?: boolean;
  _shards?: { total?: number; failed?: number; failures?: Array<{ index?: string | null; reason?: { reason?: string | null } }> };
}

/**
 * A search answers 200 with partial results when shards fail or time out. Such an answer
 * is not a basis for moving a checkpoint or for a verdict: this error (retryable) makes
 * callers retry from where they were.
 */
export function partialResultsError(what: EsArea, op: string, res: SearchCompleteness): VeerError | undefined {
  const failed = res._shards?.failed ?? 0;
  if (failed === 0 && !res.timed_out) return undefined;
  const why = (res._shards?.failures ?? [])
    .slice(0, 3)
    .map((f) => `${f.index ?? '?'}: ${f.reason?.reason ?? 'unknown'}`)
    .join('; ');
  return new UnavailableError(
    areaCode(errorArea(what), 'UNAVAILABLE'),
    `${what} store (elasticsearch): ${op} returned partial results (${failed} of ${res._shards?.total ?? '?'} shards failed${res.timed_out ? ', timed out' : ''}${why ? `: ${why}` : ''}); not used, retried later`,
  );
}
