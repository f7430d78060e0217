import type { z } from 'zod';
import { ValidationError } from './errors.ts';

/** One problem with an input, named by its field path (`limits.timeoutMs`, `routes.v1.weight`). */
export interface Issue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * The one conversion from zod issues to error details: every issue of the input at once
 * (not only the first), with paths joined by dots under `prefix`.
 */
export function issuesFromZod(error: z.ZodError, prefix = ''): Issue[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: i.message,
  }));
}

/** A ValidationError whose message lists every issue (`a.b: …; c: …`). */
export function validationErrorFromZod(error: z.ZodError, prefix = ''): ValidationError {
  const issues = issuesFromZod(error, prefix);
  return new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}
