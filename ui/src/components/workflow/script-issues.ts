import { ApiError } from '../../api.ts';
import type { ScriptDiagnostic } from '../ScriptEditor.tsx';

const NONE: ScriptDiagnostic[] = [];

/** The issues of a 400 VALIDATION answer that point into the script, as editor diagnostics. */
export function scriptDiagnostics(error: unknown): ScriptDiagnostic[] {
  if (!(error instanceof ApiError)) return NONE;
  const found = error.issues.filter((i) => i.line !== undefined && (i.path === undefined || i.path === 'script'));
  return found.length ? found.map((i) => ({ line: i.line ?? 1, column: i.column ?? 1, message: i.message ?? 'invalid' })) : NONE;
}
