import { z } from 'zod';

/**
 * A signal: a message from a person (or a tool) to a workflow's runs — `promote`, `abort`,
 * `promote-full` — kept in the workflow's inbox until a run takes it with
 * `ctx.signals.take(name?)`. A run that takes a signal and then does not succeed hands it
 * back (oldest first again), so a retried run never loses a promote nor applies it twice.
 */
export interface Signal {
  /** `<sequence>-<random>`: the sequence orders the inbox. */
  id: string;
  name: string;
  value: unknown;
  /** ISO-8601. */
  sentAt: string;
  /** The API token's name (or `anonymous` when the API is open). */
  sentBy: string;
}

/** A workflow's inbox holds at most this many signals; more are refused (409 SIGNAL.INBOX_FULL). */
export const SIGNAL_INBOX_MAX = 1000;
/** Largest signal value, as JSON. */
export const SIGNAL_VALUE_MAX_BYTES = 64 * 1024;

export const SignalNameSchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/,
    'must be 1-63 lowercase letters, digits, dots, dashes or underscores, starting and ending with a letter or digit',
  );

export const SignalInputSchema = z
  .object({
    name: SignalNameSchema.describe('e.g. promote, promote-full, abort'),
    value: z
      .unknown()
      .optional()
      .refine((v) => v === undefined || JSON.stringify(v).length <= SIGNAL_VALUE_MAX_BYTES, `must be at most ${SIGNAL_VALUE_MAX_BYTES} bytes as JSON`)
      .describe('any JSON value, handed to the run as it is (default null)'),
  })
  .strict();

export type SignalInput = z.output<typeof SignalInputSchema>;
