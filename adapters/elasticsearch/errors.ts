import { errors } from '@elastic/elasticsearch';
import { areaCode } from '../../engine/shared/error-catalogue.ts';
import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';

/** Which store is talking to the cluster; named in every error message. */
export type EsArea = 'events' | 'metrics' | 'document search';

/** The error-code area: document search (query triggers) reports as the events area, it reads the same cluster. */
export const errorArea = (what: EsArea) => (what === 'metrics' ? 'METRICS' : 'EVENTS');

/** Vendor errors become VeerErrors naming the store and operation. */
export function translateEsError(what: EsArea, op: string, err: unknown): VeerError {
  if (err instanceof VeerError) return err;
  const area = errorArea(what);
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 500;
    const reason = (err.body as { error?: { reason?: string } } | undefined)?.error?.reason ?? err.message;
    if (status === 400) return new VeerError(areaCode(area, 'INVALID'), `${what} store (elasticsearch): ${op} was rejected: ${reason}`, { cause: err });
    return new UnavailableError(areaCode(area, 'UNAVAILABLE'), `${what} store (elasticsearch): ${op} failed with ${status}: ${reason}`, { cause: err });
  }
  return new UnavailableError(
    areaCode(area, 'UNAVAILABLE'),
    `${what} store (elasticsearch): ${op} failed: ${(err as Error).message}; check VEER_ES_URL and that Elasticsearch is reachable`,
    { cause: err },
  );
}
