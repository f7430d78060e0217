import { createHash } from 'node:crypto';

/**
 * Every Redis key Veer builds, in one place (documented in README "Redis key layout").
 * Every key starts with the installation's prefix (VEER_REDIS_PREFIX, default `veer`) inside
 * a hash tag, so a Redis Cluster keeps each multi-key operation in one slot: `{p}:…` for the
 * control plane, `{p:q}`, `{p:metrics}`, `{p:scheduler}` and `{p:kv}` for the rest.
 * Two families are laid out by their owners and only rooted here: the Redis KV store
 * (`{<kv prefix>:kv}:*`, derived inside its Lua scripts: adapters/kv/redis-scripts.ts) and
 * BullMQ's own keys under `queuePrefix`.
 */
export interface RedisKeys {
  /** The installation's prefix as configured (VEER_REDIS_PREFIX), without hash tags. */
  prefix: string;
  workflowNames: string;
  /** Which key layout the installation is in (legacy-layout.ts: set once the old one was looked for). */
  layout: string;
  workflow(name: string): string;
  workflowVersions(name: string): string;
  workflowRuns(name: string): string;
  workflowActive(name: string): string;
  workflowState(name: string): string;
  cronLastTick(name: string): string;
  /** One key per claimed dedupe key (cron tick, event id) of a workflow. */
  dedupe(name: string, key: string): string;
  /** MATCH pattern of every dedupe key of a workflow (for deleting the workflow). */
  dedupePattern(name: string): string;
  esTriggerCheckpoint(name: string): string;
  esTriggerSeen(name: string): string;
  /** Recent runs of a workflow that killed their sandbox process (sorted set, member `<version>:<run id>`). */
  workflowCrashes(name: string): string;
  /** Quarantined versions of a workflow (hash: version → JSON). */
  workflowQuarantine(name: string): string;
  /** The workflow's pause (JSON `WorkflowPause`), beside the versions: pausing makes no version. */
  workflowPaused(name: string): string;
  /** When the workflow was last deleted (ISO string, expires after 30 days); not in `perWorkflow`. */
  workflowDeleted(name: string): string;
  /** Signal inbox: sorted set of pending signal ids by sequence. */
  signalInbox(name: string): string;
  /** The counter signal sequences come from. */
  signalSeq(name: string): string;
  /** Hash: signal id → JSON (the Signal plus its `seq`), pending and taken alike. */
  signalData(name: string): string;
  /** Hash: signal id → its name, so a name filter reads no JSON. */
  signalNames(name: string): string;
  /** Hash: taken signal id → the run holding it. */
  signalTaken(name: string): string;
  /** The workflow's recent trigger records (list, newest first, capped). */
  workflowTriggers(name: string): string;
  /** Every key that belongs to one workflow only (deleted with it; runs are kept until trimmed). */
  perWorkflow(name: string): string[];
  /** Every workflow's kept runs in one sorted set by queue time (trimmed with each workflow's `runs`). */
  runsAll: string;
  run(id: string): string;
  runLog(id: string): string;
  runLogSeq(id: string): string;
  stats: string;
  durations: string;
  /** Hash: `<workflow>|<reason>` → skipped triggers (never reset: a Prometheus counter). */
  triggerSkipped: string;
  /** Cron tick lateness histogram (cumulative `le_<s>` buckets, `count`, `sum`). */
  cronLateness: string;
  engines: string;
  engine(id: string): string;
  /** `Coordination.lease(name)`: `<p>:<name>:lock`. */
  lease(name: string): string;
  /** `Coordination.signal/listen(channel)`: `<p>:<channel>`. */
  channel(name: string): string;
  dispatcherCheckpoint: string;
  remoteLastEventId(url: string): string;
  /** The event stream (adapters/events/redis-streams.ts). */
  events: string;
  /** Hash: secret name → JSON (version, times, sealed value); values are AES-256-GCM sealed before they get here. */
  secrets: string;
  /** Hash: notifier name → JSON (spec, updatedAt; the secret in clear: it signs, so it must be readable). */
  notifiers: string;
  /** Hash: notifier name → createdAt (set once: its presence is what "created" means). */
  notifiersCreated: string;
  /** Where a notifier resumes in the event store (written by the delivering engine only). */
  notifierCursor(name: string): string;
  /** A notifier's recent delivery attempts (list, newest first, capped). */
  notifierDeliveries(name: string): string;
  /** The append-only audit stream (adapters/redis/audit-log.ts). */
  audit: string;
  /** OnceKeys (adapters/redis/once-keys.ts): one expiring key per claim, e.g. `alertmanager:<fingerprint>:<status>:<startsAt ms>`. */
  once(key: string): string;
  /** Dashboard sessions (adapters/redis/session-store.ts): `<p>:session:<sha256 of the cookie>`, expiring. */
  session(hash: string): string;
  /** Gateway metrics: one hash per gateway, route (`*` = all) and second. */
  metricsBucket(gateway: string, route: string, second: number): string;
  /** The same numbers rolled up per minute (epoch minute), in the same slot so one pipeline reads both. */
  metricsMinuteBucket(gateway: string, route: string, minute: number): string;
  /** Prefix of the local scheduler's keys (see `localSchedulerKeys`). */
  scheduler: string;
  /** BullMQ's own keys live under `<prefix>:q:<queue>:*`. */
  queuePrefix: string;
}

/** Channels the adapters publish on themselves (the engine names its own, e.g. `runs:cancel`). */
export const CHANNELS = { workflowsChanged: 'workflows:changed' } as const;

export function createKeys(prefix: string): RedisKeys {
  // One hash tag for the control plane: every Lua script and MULTI of the stores touches
  // keys of this one slot only (a Redis Cluster refuses cross-slot scripts). Volume that is
  // touched on its own gets its own tag, so a cluster spreads it: BullMQ's queue (its Lua
  // spans only its own keys), gateway metrics, the local scheduler, and the KV store
  // (`{<kv prefix>:kv}`, adapters/kv/redis.ts).
  const p = `{${prefix}}`;
  const wf = (n: string) => `${p}:wf:${n}`;
  const keys: RedisKeys = {
    prefix,
    workflowNames: `${p}:workflows`,
    layout: `${p}:layout`,
    workflow: wf,
    workflowVersions: (n) => `${wf(n)}:versions`,
    workflowRuns: (n) => `${wf(n)}:runs`,
    workflowActive: (n) => `${wf(n)}:active`,
    workflowState: (n) => `${wf(n)}:state`,
    cronLastTick: (n) => `${wf(n)}:cron:last`,
    dedupe: (n, k) => `${wf(n)}:dedupe:${k}`,
    // Names are [a-z0-9-] (NameSchema), so they hold no glob characters.
    dedupePattern: (n) => `${wf(n)}:dedupe:*`,
    esTriggerCheckpoint: (n) => `${wf(n)}:es-trigger:checkpoint`,
    esTriggerSeen: (n) => `${wf(n)}:es-trigger:seen`,
    workflowCrashes: (n) => `${wf(n)}:crashes`,
    workflowQuarantine: (n) => `${wf(n)}:quarantine`,
    workflowPaused: (n) => `${wf(n)}:paused`,
    workflowDeleted: (n) => `${wf(n)}:deleted`,
    signalInbox: (n) => `${wf(n)}:signals`,
    signalSeq: (n) => `${wf(n)}:signals:seq`,
    signalData: (n) => `${wf(n)}:signals:data`,
    signalNames: (n) => `${wf(n)}:signals:names`,
    signalTaken: (n) => `${wf(n)}:signals:taken`,
    workflowTriggers: (n) => `${wf(n)}:triggers`,
    perWorkflow: (n) => [
      keys.workflow(n),
      keys.workflowVersions(n),
      keys.workflowState(n),
      keys.workflowActive(n),
      keys.cronLastTick(n),
      keys.esTriggerCheckpoint(n),
      keys.esTriggerSeen(n),
      keys.workflowCrashes(n),
      keys.workflowQuarantine(n),
      keys.workflowPaused(n),
      keys.signalInbox(n),
      keys.signalSeq(n),
      keys.signalData(n),
      keys.signalNames(n),
      keys.signalTaken(n),
      keys.workflowTriggers(n),
    ],
    runsAll: `${p}:runs:all`,
    run: (id) => `${p}:run:${id}`,
    runLog: (id) => `${p}:run:${id}:log`,
    runLogSeq: (id) => `${p}:run:${id}:logseq`,
    stats: `${p}:stats:runs`,
    durations: `${p}:stats:durations`,
    triggerSkipped: `${p}:stats:trigger-skipped`,
    cronLateness: `${p}:stats:cron-lateness`,
    engines: `${p}:engines`,
    engine: (id) => `${p}:engine:${id}`,
    lease: (name) => `${p}:${name}:lock`,
    channel: (name) => `${p}:${name}`,
    dispatcherCheckpoint: `${p}:events:dispatcher:checkpoint`,
    remoteLastEventId: (url) => `${p}:events:remote:${createHash('sha1').update(url).digest('hex').slice(0, 16)}:last`,
    events: `${p}:events`,
    secrets: `${p}:secrets`,
    notifiers: `${p}:notifiers`,
    notifiersCreated: `${p}:notifiers:created`,
    notifierCursor: (n) => `${p}:notifier:${n}:cursor`,
    notifierDeliveries: (n) => `${p}:notifier:${n}:deliveries`,
    audit: `${p}:audit`,
    once: (k) => `${p}:once:${k}`,
    session: (h) => `${p}:session:${h}`,
    metricsBucket: (g, r, s) => `{${prefix}:metrics}:${g}:${r}:${s}`,
    metricsMinuteBucket: (g, r, m) => `{${prefix}:metrics}:${g}:${r}:m${m}`,
    scheduler: `{${prefix}:scheduler}`,
    queuePrefix: `{${prefix}:q}`,
  };
  return keys;
}

/**
 * The local scheduler's keys under its prefix (`{<p>:scheduler}`, one slot): desired state (hash, field =
 * deployment), observed state per deployment (written by the supervisor), the supervisor's
 * lease, and the change channels.
 */
export function localSchedulerKeys(schedulerPrefix: string) {
  return {
    desired: `${schedulerPrefix}:desired`,
    observed: (name: string) => `${schedulerPrefix}:observed:${name}`,
    lease: `${schedulerPrefix}:supervisor`,
    desiredChanged: `${schedulerPrefix}:desired-changed`,
    observedChanged: `${schedulerPrefix}:observed-changed`,
  };
}
