import type { z } from 'zod';
import { VeerError } from './errors.ts';

/** Environment variables as given to a process: config modules parse them, nothing else reads them. */
export type Env = Record<string, string | undefined>;

/** Parses one area's env section, turning zod issues into an error naming the variables. */
export function parseEnv<S extends z.ZodTypeAny>(schema: S, env: Env): z.output<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new VeerError('CONFIG', `invalid configuration: ${lines.join('; ')}`, { details: { issues: lines } });
  }
  return parsed.data;
}
