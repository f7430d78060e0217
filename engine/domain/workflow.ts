import { z } from 'zod';
import { EventGrantSchema, SourcePatternSchema } from './event.ts';
import { MetadataFields, type Metadata } from './metadata.ts';

/** Workflow, gateway and deployment names: DNS-label-like so they are safe in keys, URLs and HAProxy names. */
export const NameSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit');

/** `signals: true` on any trigger: a signal posted to the workflow also starts a run at once. */
const SignalsFlag = z.boolean().optional().describe('a signal posted to the workflow also starts a run at once (no waiting for the next tick)');

export const CronTriggerSchema = z
  .object({
    cron: z.string().min(1).max(256).describe('cron expression: 5 fields (minute precision) or 6 fields (leading seconds)'),
    timezone: z.string().max(64).default('UTC').describe('IANA timezone the expression is evaluated in'),
    signals: SignalsFlag,
  })
  .strict();

export const EventTriggerSchema = z
  .object({
    events: z
      .object({
        tags: z.array(z.string().min(1)).default([]).describe('every tag must be on the event (a group:name tag also matches group)'),
        type: z.string().min(1).optional(),
        sources: z
          .array(SourcePatternSchema)
          .min(1)
          .max(20)
          .optional()
          .describe('accepted event sources: `api`, `veer`, `*`, `workflow:<glob>`, `remote:<glob>`; absent: every source'),
      })
      .strict(),
    signals: SignalsFlag,
  })
  .strict();

export const ElasticsearchTriggerSchema = z
  .object({
    elasticsearch: z
      .object({
        index: z.string().min(1),
        query: z.record(z.string(), z.unknown()).default({ match_all: {} }),
        every: z
          .string()
          .regex(/^\d+(ms|s|m|h)$/, 'must be a duration like 500ms, 10s, 5m or 1h')
          .default('10s'),
        timestampField: z.string().default('@timestamp'),
        batchSize: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    signals: SignalsFlag,
  })
  .strict();

/** Signals only: runs start when a signal is posted (and by hand). */
export const SignalTriggerSchema = z.object({ signals: z.literal(true) }).strict();

export const TriggerSchema = z.union([CronTriggerSchema, EventTriggerSchema, ElasticsearchTriggerSchema, SignalTriggerSchema]);

/**
 * What a trigger does when a run of the workflow is still queued or running: `skip` the new
 * one, `allow` both, `replace` (cancel the active ones), or `queue` it to run after them (at
 * most `overlapQueue` waiting; more are skipped as `queue_full`).
 */
export const OVERLAP_POLICIES = ['skip', 'allow', 'replace', 'queue'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const LimitsSchema = z
  .object({
    timeoutMs: z
      .number()
      .int()
      .min(10)
      .max(24 * 3600_000)
      .default(30_000)
      .describe('wall-clock deadline of one attempt'),
    memoryMb: z.number().int().min(8).max(1024).default(64).describe('isolate heap limit'),
    cpuMs: z
      .number()
      .int()
      .min(10)
      .max(24 * 3600_000)
      .optional()
      .describe('CPU time of one attempt; defaults to timeoutMs'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe('runs of this workflow executing at once across every engine; more wait (other workflows go first); default 1'),
  })
  .strict();

export const RetriesSchema = z
  .object({
    attempts: z.number().int().min(1).max(20).default(1).describe('total attempts, the first included'),
    backoffMs: z.number().int().min(0).max(3600_000).default(1000).describe('exponential backoff base'),
  })
  .strict();

export const DeploymentBoundsSchema = z
  .object({
    minInstances: z.number().int().min(0).default(0),
    maxInstances: z.number().int().min(0).default(100),
  })
  .strict();

export const PermissionsSchema = z
  .object({
    gateways: z.array(z.string().min(1)).default([]).describe('gateway names or globs (`shop-*`) the script may change'),
    deployments: z.record(z.string(), DeploymentBoundsSchema).default({}).describe('deployment name or glob → instance bounds the script may scale within'),
    events: z.array(EventGrantSchema).max(100).optional().describe("tags or tag globs whose events ctx.events.query may read besides the workflow's own"),
    http: z
      .array(
        z
          .string()
          .max(2048)
          .regex(
            /^https?:\/\/[^\s/]+(\/\S*)?$/,
            'must be an http:// or https:// URL pattern; `*` matches any characters (`https://hooks.slack.com/services/*`)',
          ),
      )
      .max(100)
      .optional()
      .describe('URL patterns ctx.http.fetch may request (`*` matches any characters); link-local and metadata addresses only when named'),
    secrets: z
      .array(
        z
          .string()
          .min(1)
          .max(63)
          .regex(/^[a-z0-9*?-]+$/, 'must be a secret name or a glob of one (`slack-*`)'),
      )
      .max(100)
      .optional()
      .describe('secret names or globs ctx.secrets.get may read'),
  })
  .strict();

export const WorkflowSpecSchema = z
  .object({
    description: z.string().max(2000).optional(),
    script: z
      .string()
      .min(1, 'must not be empty')
      .max(512 * 1024, 'must be at most 512 KiB'),
    trigger: TriggerSchema.optional().describe('absent: manual runs only'),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
    limits: LimitsSchema.default({ timeoutMs: 30_000, memoryMb: 64 }),
    retries: RetriesSchema.default({ attempts: 1, backoffMs: 1000 }),
    overlap: z
      .enum(OVERLAP_POLICIES)
      .optional()
      .describe('when a run is still active: skip | allow | replace | queue; default queue for event triggers, skip otherwise'),
    overlapQueue: z.number().int().min(1).max(1000).default(10).describe('with overlap queue: runs that may wait; more are skipped (queue_full)'),
    enabled: z.boolean().default(true),
    permissions: PermissionsSchema.default({ gateways: [], deployments: {} }),
    // Part of the version like every other field: a change of labels is a new version.
    ...MetadataFields,
  })
  .strict();

export type WorkflowSpecInput = z.input<typeof WorkflowSpecSchema>;
/** Labels and annotations are optional here: versions stored before they existed lack them (the API shows `{}`). */
export type WorkflowSpec = Omit<z.output<typeof WorkflowSpecSchema>, keyof Metadata> & Partial<Metadata>;
export type Trigger = z.output<typeof TriggerSchema>;
export type CronTrigger = z.output<typeof CronTriggerSchema>;
export type EventTrigger = z.output<typeof EventTriggerSchema>;
export type ElasticsearchTrigger = z.output<typeof ElasticsearchTriggerSchema>;
export type Permissions = z.output<typeof PermissionsSchema>;

/** Who paused a workflow's triggers and when (kept beside the versions: pausing makes no new version). */
export interface WorkflowPause {
  by: string;
  at: string;
  reason?: string;
}

export interface Workflow extends WorkflowSpec {
  name: string;
  version: number;
  /** Present while the triggers are paused (manual runs still start). */
  paused?: WorkflowPause;
  /** The script with TypeScript types replaced by spaces: same lines and columns as `script`. */
  compiled: string;
  createdAt: string;
  updatedAt: string;
}

export function isCronTrigger(t: Trigger | undefined): t is CronTrigger {
  return !!t && 'cron' in t;
}
export function isEventTrigger(t: Trigger | undefined): t is EventTrigger {
  return !!t && 'events' in t;
}
export function isElasticsearchTrigger(t: Trigger | undefined): t is ElasticsearchTrigger {
  return !!t && 'elasticsearch' in t;
}

/** The overlap policy in force: as declared, else `queue` for event triggers (two alerts, two runs) and `skip` for the rest. */
export function overlapOf(wf: Pick<WorkflowSpec, 'overlap' | 'trigger'>): OverlapPolicy {
  return wf.overlap ?? (isEventTrigger(wf.trigger) ? 'queue' : 'skip');
}

/** Whether a posted signal starts a run of this workflow at once. */
export function startsOnSignal(t: Trigger | undefined): boolean {
  return !!t && 'signals' in t && t.signals === true;
}
