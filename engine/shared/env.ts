import type { z } from 'zod';
import { VeerError } from './errors.ts';
import { formatIssues, issuesFromZod } from './issues.ts';

/** Environment variables as given to a process: config modules parse them, nothing else reads them. */
export type Env = Record<string, string | undefined>;

/** Parses one area's env section, turning zod issues into one CONFIG error naming every bad variable. */
export function parseEnv<S extends z.ZodTypeAny>(schema: S, env: Env): z.output<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error, { root: '(environment)' });
    throw new VeerError('CONFIG', `invalid configuration: ${formatIssues(issues)}`, { details: { issues } });
  }
  return parsed.data;
}
