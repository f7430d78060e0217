import { z } from '@hono/zod-openapi';

/**
 * A domain input schema as a response schema: every `.default()` removed, at every depth, so
 * the OpenAPI document (and the CLI types generated from it) shows those fields as always
 * present, which they are in what the API answers (zod-to-openapi marks a field with a
 * default optional, as it is in a request body). Descriptions are kept. Response schemas are
 * documentation only (@hono/zod-openapi validates requests, never responses), so this changes
 * no behaviour.
 *
 * Typed as the schema it was given: the output type is the same (defaults applied); only the
 * input type differs, and nothing parses with a response schema.
 */
export function asStored<T extends z.ZodObject>(schema: T): T {
  return stored(schema) as T;
}

function stored(schema: z.ZodType): z.ZodType {
  const out = strip(schema);
  return out !== schema && schema.description && !out.description ? out.describe(schema.description) : out;
}

function strip(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault) return stored(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodOptional) return stored(schema.unwrap() as z.ZodType).optional();
  if (schema instanceof z.ZodNullable) return stored(schema.unwrap() as z.ZodType).nullable();
  if (schema instanceof z.ZodArray) return z.array(stored(schema.element as z.ZodType));
  if (schema instanceof z.ZodRecord) return z.record(schema.keyType as z.ZodString, stored(schema.valueType as z.ZodType));
  if (schema instanceof z.ZodUnion) return z.union((schema.options as z.ZodType[]).map(stored) as [z.ZodType, ...z.ZodType[]]);
  if (schema instanceof z.ZodObject) {
    const shape = Object.fromEntries(Object.entries(schema.shape as Record<string, z.ZodType>).map(([k, v]) => [k, stored(v)]));
    // extend keeps the catchall (a strict object stays strict: additionalProperties false).
    return schema.extend(shape);
  }
  return schema;
}
