import type { SessionStore } from './ports/session-store.ts';
import type { CoreConfig } from './config.ts';
import type { EmitEvent } from './domain/emit.ts';
import type { EventBus } from './events/bus.ts';
import type { GatewayService } from './gateways/service.ts';
import type { AuditLog } from './ports/audit-log.ts';
import type { Coordination } from './ports/coordination.ts';
import type { EventStore } from './ports/event-store.ts';
import type { KvStore } from './ports/kv-store.ts';
import type { GatewayMetricsStore } from './ports/metrics-store.ts';
import type { NotifierStore } from './ports/notifier-store.ts';
import type { RunQueue } from './ports/run-queue.ts';
import type { RunStats } from './ports/run-stats.ts';
import type { RunStore } from './ports/run-store.ts';
import type { SchedulerDriver } from './ports/scheduler.ts';
import type { SignalStore } from './ports/signal-store.ts';
import type { StateStore } from './ports/state-store.ts';
import type { TriggerHistory } from './ports/trigger-history.ts';
import type { TriggerRecorder } from './triggers/trigger-recorder.ts';
import type { TriggerState } from './ports/trigger-state.ts';
import type { WorkflowStore } from './ports/workflow-store.ts';
import type { QuarantineStore } from './ports/quarantine.ts';
import type { RunCanceller } from './runs/run-canceller.ts';
import type { RunLauncher } from './runs/launcher.ts';
import type { Capabilities } from './sandbox/capabilities.ts';
import type { Logger } from './shared/logger.ts';
import type { SecretService } from './connect/secret-service.ts';
import type { OnceKeys } from './ports/once-keys.ts';

/** The run-side ports and services every process (API, engine) shares. */
export interface Stores {
  workflows: WorkflowStore;
  runs: RunStore;
  state: StateStore;
  stats: RunStats;
  queue: RunQueue;
  coordination: Coordination;
  triggers: TriggerState;
  launcher: RunLauncher;
  canceller: RunCanceller;
  /** Workflow versions quarantined for killing their sandbox process repeatedly (shown by the API). */
  quarantine: QuarantineStore;
  /** Each workflow's signal inbox (ctx.signals, the signals API). */
  signals: SignalStore;
  /** Recent trigger outcomes per workflow, skip counters and cron lateness (the triggers API, /metrics). */
  triggerHistory: TriggerHistory;
  /** Records trigger outcomes the launcher does not see (missed cron ticks, trigger loops). */
  recorder: TriggerRecorder;
}

/**
 * One process's services, as the API and the engine see them: ports only, no vendor types.
 * Built by the composition root (boot/system.ts) from configuration; nothing in the engine
 * or the API picks an implementation.
 */
export interface System {
  config: CoreConfig;
  logger: Logger;
  stores: Stores;
  events: {
    store: EventStore;
    bus: EventBus;
    /** SSE comment interval of event streams (VEER_EVENTS_SSE_HEARTBEAT_MS). */
    heartbeatMs: number;
  };
  metrics: GatewayMetricsStore;
  scheduler: { driver: SchedulerDriver };
  kv: KvStore;
  gateways: GatewayService;
  /** The one path for Veer's own events (run lifecycle, gateway and deployment changes). Never throws. */
  emit: EmitEvent;
  /** The append-only audit stream (API mutations, script effects). */
  audit: AuditLog;
  /** Notifiers (events delivered as webhooks): the API defines them, the engine delivers. */
  notifiers: NotifierStore;
  /** Secrets: sealed at rest; the API writes values and reads metadata, ctx.secrets reads values. */
  secrets: SecretService;
  /** Inbound webhooks: Alertmanager's own bearer token (VEER_ALERTMANAGER_TOKEN) and the keys its repeats are recognised by. */
  webhooks: { alertmanagerToken?: string; onceKeys: OnceKeys };
  /** Dashboard logins (cookie sessions over API tokens). */
  sessions: SessionStore;
  /** What scripts get besides `state`, `log` and `sleep`. */
  capabilities: Capabilities;
  /** Closers run in reverse order on shutdown (before the stores close). */
  onClose: Array<() => Promise<void>>;
  close(): Promise<void>;
}
