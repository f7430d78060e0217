import { z } from 'zod';

/**
 * Labels and annotations, the same on every applyable object (workflows, gateways, local
 * deployments, notifiers, secrets). Veer gives them no meaning: the `veer` CLI records where a
 * manifest came from (`veer.io/source`), users select by labels. Keys follow Kubernetes: an
 * optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
 */

export const MAX_LABELS = 64;
export const MAX_ANNOTATIONS = 64;
export const MAX_ANNOTATION_VALUE = 4096;
/** Keys and values together, UTF-8 bytes. */
export const MAX_ANNOTATIONS_BYTES = 16 * 1024;

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** Why `key` is not a label or annotation key; undefined when it is one. */
export function metadataKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return 'key prefix must be a DNS subdomain of at most 253 characters (lowercase letters, digits, dashes and dots), e.g. veer.io/';
  if (name.length === 0 || name.length > 63 || !NAME.test(name))
    return 'key name must be 1-63 letters, digits, dashes, underscores or dots, starting and ending with a letter or digit (optionally after a prefix/)';
  return undefined;
}

const labelValueProblem = (v: string) =>
  v === '' || (v.length <= 63 && NAME.test(v))
    ? undefined
    : 'label value must be empty or 1-63 letters, digits, dashes, underscores or dots, starting and ending with a letter or digit';

function metadataSchema(what: 'labels' | 'annotations', max: number, valueProblem: (v: string) => string | undefined, maxBytes?: number) {
  return z
    .record(z.string(), z.string())
    .superRefine((record, ctx) => {
      const keys = Object.keys(record);
      if (keys.length > max) ctx.addIssue({ code: 'custom', message: `at most ${max} ${what}, got ${keys.length}` });
      for (const key of keys) {
        const why = metadataKeyProblem(key) ?? valueProblem(record[key]);
        if (why) ctx.addIssue({ code: 'custom', path: [key], message: why });
      }
      if (maxBytes !== undefined) {
        const bytes = keys.reduce((n, k) => n + Buffer.byteLength(k) + Buffer.byteLength(record[k]), 0);
        if (bytes > maxBytes) ctx.addIssue({ code: 'custom', message: `at most ${maxBytes} bytes of keys and values in all, got ${bytes}` });
      }
    })
    .default({});
}

export const LabelsSchema = metadataSchema('labels', MAX_LABELS, labelValueProblem).describe(
  'key → value for selecting objects (Kubernetes rules: `[prefix/]name`, values of at most 63 characters or empty); no meaning to Veer',
);

export const AnnotationsSchema = metadataSchema(
  'annotations',
  MAX_ANNOTATIONS,
  (v) => (v.length > MAX_ANNOTATION_VALUE ? `annotation value must be at most ${MAX_ANNOTATION_VALUE} characters` : undefined),
  MAX_ANNOTATIONS_BYTES,
).describe('key → any text (at most 4096 characters each, 16 KiB in all), e.g. `veer.io/source`; no meaning to Veer');

/** The two fields every applyable object's body accepts, defaulting to `{}`. */
export const MetadataFields = { labels: LabelsSchema, annotations: AnnotationsSchema };

export interface Metadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Labels and annotations of a stored object, `{}` when it was stored before they existed. */
export const metadataOf = (o: Partial<Metadata>): Metadata => ({ labels: o.labels ?? {}, annotations: o.annotations ?? {} });
