import { EsError } from './elasticsearch-model.ts';

/*
 * REST API compatibility, as the double's `major` (8 or 9) does it: a server accepts
 * `compatible-with` = its major or the one before, and answers anything else with 400
 * `media_type_header_exception`; `GET /` reports that major.
 * https://github.com/elastic/elasticsearch/blob/main/server/src/main/java/org/elasticsearch/rest/RestCompatibleVersionHelper.java
 * https://www.elastic.co/docs/reference/elasticsearch/rest-apis/compatibility
 */

/**
 * RestCompatibleVersionHelper.getCompatibleVersion of a server of `major`: a versioned
 * Accept (and, with a body, Content-Type) must name `major` or `major - 1`, both headers
 * must agree, and be versioned both or neither. Unversioned `application/json` means
 * "the server's own major". The answer is RestRequest's MediaTypeHeaderException.
 */
export function compatibilityError(major: number, accept: string | undefined, contentType: string | undefined, hasContent: boolean): EsError | undefined {
  const version = (h: string | undefined) => {
    const m = /compatible-with=(\d+)/.exec(h ?? '');
    return m ? Number(m[1]) : undefined;
  };
  const a = version(accept);
  const c = version(contentType);
  const av = a ?? major;
  const cv = c ?? major;
  const min = major - 1;
  let reason: string | undefined;
  if (av > major || av < min) reason = `Accept version must be either version ${major} or ${min}, but found ${av}. Accept=${accept}`;
  else if (hasContent && (cv > major || cv < min))
    reason = `Content-Type version must be either version ${major} or ${min}, but found ${cv}. Content-Type=${contentType}`;
  else if (hasContent && cv !== av)
    reason = `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept=${accept}, Content-Type=${contentType}`;
  else if (hasContent && (a === undefined) !== (c === undefined))
    reason = `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version. Accept=${accept}, Content-Type=${contentType}`;
  if (!reason) return undefined;
  return new EsError(400, 'media_type_header_exception', 'Invalid media-type value on headers [Accept, Content-Type]', { type: 'status_exception', reason });
}

const VERSIONS = {
  8: { number: '8.18.0', lucene_version: '9.12.0', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' },
  9: { number: '9.0.0', lucene_version: '10.1.0', minimum_wire_compatibility_version: '8.18.0', minimum_index_compatibility_version: '8.0.0' },
} as const;

/** The `GET /` answer of a server of `major`: the version the adapters detect the major from. */
export const infoBody = (major: 8 | 9) => ({
  name: 'es-double',
  cluster_name: 'veer-test-double',
  cluster_uuid: 'double',
  version: { ...VERSIONS[major], build_flavor: 'default' },
  tagline: 'You Know, for Search (double)',
});
