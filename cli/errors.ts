/**
 * The CLI's exit codes (documented in the README, relied on by scripts and CI jobs) and the one
 * error type commands throw: main.ts prints its message on stderr and exits with its code.
 */
export const EXIT = {
  ok: 0,
  /** The API refused or the operation failed (validation, a failed run, a failed wait). */
  failed: 1,
  /** The command line itself is wrong (unknown flag, missing argument, bad --input JSON). */
  usage: 2,
  notFound: 3,
  /** The API answered 409: the object is busy, already exists in another form, or a run was not started. */
  conflict: 4,
  /** No answer from the API (connection refused, DNS, TLS, timeout). */
  unreachable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** The API's stable error code, when the API answered (VALIDATION, NOT_FOUND, CONFLICT…). */
  readonly apiCode: string | undefined;
  constructor(message: string, exitCode: ExitCode, apiCode?: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.apiCode = apiCode;
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
