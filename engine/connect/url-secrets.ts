import { NotFoundError } from '../shared/errors.ts';

/**
 * `{{secret:<name>}}` in a notifier URL: the part of a webhook URL that is itself a credential
 * (a Slack hook's path, a token in the query) is kept as a secret and filled in at delivery, so
 * the notifier's definition — shown by GET to any `read` token — carries only the name.
 */
const PLACEHOLDER = /\{\{secret:([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)\}\}/g;

/** The secret names a URL template refers to. */
export const secretsIn = (template: string): string[] => [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);

/** The template with every placeholder replaced by `x`: what must parse as a URL. */
export const urlShapeOf = (template: string): string => template.replace(PLACEHOLDER, 'x');

/** Fills in each placeholder (percent-encoded: a value cannot change the URL's structure); NOT_FOUND for a missing secret. */
export async function fillUrlSecrets(template: string, reveal: (name: string) => Promise<string | undefined>): Promise<string> {
  let out = template;
  for (const name of new Set(secretsIn(template))) {
    const value = await reveal(name);
    if (value === undefined) throw new NotFoundError('secret', name);
    out = out.split(`{{secret:${name}}}`).join(encodeURI(value));
  }
  return out;
}
