import { errors, type Client } from '@elastic/elasticsearch';
import { elasticsearchCompat, type EsCompat } from './compat.ts';
import { translateEsError, type EsArea } from './errors.ts';

/**
 * Each store's template priority: distinct from each other's, above ES's built-in ones
 * (100–500) and the usual user range.
 */
export const TEMPLATE_PRIORITY = { events: 5301, requests: 5302 } as const;

type TemplateBody = Parameters<Client['indices']['putIndexTemplate']>[0] & { priority: number };

/**
 * Our templates must be the one that applies to our indices, and ES refuses a template
 * whose patterns overlap another's at the same priority (400 illegal_argument_exception,
 * "... that have the same priority [N] ..."). So each starts at a distinct, high priority
 * and moves up past a clash with someone else's template.
 */
async function putTemplateAtFreePriority(client: Client, compat: EsCompat, body: TemplateBody): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.indices.putIndexTemplate({ ...body, priority: body.priority + attempt }, compat.json);
      return;
    } catch (err) {
      const reason = err instanceof errors.ResponseError ? String((err.body as { error?: { reason?: string } } | undefined)?.error?.reason ?? '') : '';
      if (attempt < 20 && err instanceof errors.ResponseError && err.meta.statusCode === 400 && reason.includes('that have the same priority')) continue;
      throw err;
    }
  }
}

/**
 * A store's index template, put before its first write: the returned function puts it
 * (at a free priority, then runs `after`) on the first call and shares that on later
 * calls; a failure is forgotten, so the next call tries again.
 */
export function indexTemplateOnce(client: Client, what: EsArea, body: TemplateBody, after?: (compat: EsCompat) => Promise<unknown>): () => Promise<void> {
  let put: Promise<void> | undefined;
  return () => {
    put ??= elasticsearchCompat(client, what)
      .then(async (c) => {
        await putTemplateAtFreePriority(client, c, body);
        await after?.(c);
      })
      .then(
        () => undefined,
        (err) => {
          put = undefined;
          throw translateEsError(what, 'put index template', err);
        },
      );
    return put;
  };
}
