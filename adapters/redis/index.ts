import type { Redis } from 'ioredis';
import type { AuditLog } from '../../engine/ports/audit-log.ts';
import type { Coordination } from '../../engine/ports/coordination.ts';
import type { NotifierStore } from '../../engine/ports/notifier-store.ts';
import type { OnceKeys } from '../../engine/ports/once-keys.ts';
import type { QuarantineStore } from '../../engine/ports/quarantine.ts';
import type { SecretStore } from '../../engine/ports/secret-store.ts';
import type { RunStats } from '../../engine/ports/run-stats.ts';
import type { RunStore } from '../../engine/ports/run-store.ts';
import type { SignalStore } from '../../engine/ports/signal-store.ts';
import type { StateStore } from '../../engine/ports/state-store.ts';
import type { TriggerHistory } from '../../engine/ports/trigger-history.ts';
import type { TriggerState } from '../../engine/ports/trigger-state.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { createRedisAuditLog } from './audit-log.ts';
import { warnOnEvictionPolicy } from './checks.ts';
import { createRedisConnections, type RedisConnections } from './connection.ts';
import { createRedisCoordination } from './coordination.ts';
import { createKeys, type RedisKeys } from './keys.ts';
import { createRedisSessionStore } from './session-store.ts';
import type { SessionStore } from '../../engine/ports/session-store.ts';
import { createRedisOnceKeys } from './once-keys.ts';
import { createRedisNotifierStore } from './notifier-store.ts';
import { createRedisQuarantineStore } from './quarantine.ts';
import { createRedisRunStats } from './run-stats.ts';
import { createRedisRunStore } from './run-store.ts';
import { createRedisSecretStore } from './secret-store.ts';
import { createRedisSignalStore } from './signal-store.ts';
import { createRedisStateStore } from './state-store.ts';
import { createSubscriber } from './subscriber.ts';
import { createRedisTriggerHistory } from './trigger-history.ts';
import { createRedisTriggerState } from './trigger-state.ts';
import { createRedisWorkflowStore } from './workflow-store.ts';
import type { RedisTarget } from './target.ts';

export interface RedisBackendOptions {
  /** One server, a Cluster or Sentinels (a plain URL for one server). */
  target: RedisTarget | string;
  prefix: string;
  /** Runs kept per workflow (VEER_RUN_HISTORY). */
  runHistory: number;
  /** Log entries kept per run (VEER_RUN_LOG_MAX). */
  runLogMax: number;
  /** Audit entries kept (VEER_AUDIT_MAXLEN). Default 100 000. */
  auditMaxLen?: number;
  logger: Logger;
}

/** Every port Veer keeps in Redis, on one command connection and one subscriber per process. */
export interface RedisBackend {
  connections: RedisConnections;
  keys: RedisKeys;
  workflows: WorkflowStore;
  runs: RunStore;
  state: StateStore;
  stats: RunStats;
  coordination: Coordination;
  triggers: TriggerState;
  audit: AuditLog;
  /** Workflow versions quarantined for killing their sandbox process repeatedly. */
  quarantine: QuarantineStore;
  /** Each workflow's signal inbox. */
  signals: SignalStore;
  /** Recent trigger outcomes per workflow, skip counters and cron lateness. */
  triggerHistory: TriggerHistory;
  /** Expiring "seen already" keys (Alertmanager's repeats). */
  onceKeys: OnceKeys;
  /** Dashboard sessions (cookie → token name), expiring. */
  sessions: SessionStore;
  /** Secrets, sealed before they reach Redis. */
  secrets: SecretStore;
  /** Notifier definitions, cursors and delivery attempts. */
  notifiers: NotifierStore;
  /** Logs a warning when Redis may evict keys (BullMQ and run records need `noeviction`). */
  checkEvictionPolicy(logger: Logger): Promise<void>;
  close(): Promise<void>;
}

export function createRedisBackend(o: RedisBackendOptions): RedisBackend {
  const connections = createRedisConnections(o.target, o.logger);
  const redis = connections.command;
  const keys = createKeys(o.prefix);
  const subscriber = createSubscriber(connections.blocking, (err) => o.logger.debug({ err: err.message }, 'redis subscriber error'));
  const coordination = createRedisCoordination({ redis, keys, subscriber });
  return {
    connections,
    keys,
    workflows: createRedisWorkflowStore({ redis, keys, subscriber, onError: (err) => o.logger.warn({ err }, 'cannot subscribe to workflow changes') }),
    runs: createRedisRunStore({ redis, connect: connections.blocking, keys, history: o.runHistory, logMax: o.runLogMax }),
    state: createRedisStateStore({ redis, keys }),
    stats: createRedisRunStats({ redis, keys }),
    coordination,
    triggers: createRedisTriggerState({ redis, keys }),
    audit: createRedisAuditLog({ redis, key: keys.audit, maxLen: o.auditMaxLen ?? 100_000 }),
    quarantine: createRedisQuarantineStore({ redis, keys }),
    signals: createRedisSignalStore({ redis, keys }),
    triggerHistory: createRedisTriggerHistory({ redis, keys }),
    onceKeys: createRedisOnceKeys({ redis, keys }),
    sessions: createRedisSessionStore({ redis, keys }),
    secrets: createRedisSecretStore({ redis, keys }),
    notifiers: createRedisNotifierStore({ redis, keys }),
    checkEvictionPolicy: (logger) => warnOnEvictionPolicy(redis, logger),
    async close() {
      await coordination.close();
      subscriber.close();
      await connections.close();
    },
  };
}

/**
 * Coordination and trigger state on a client someone else owns (tests, tools): `close()`
 * stops the leaderships and the subscriber it made, not the client.
 */
export function createRedisCoordinationOn(redis: Redis, prefix: string): { coordination: Coordination; triggers: TriggerState; close(): Promise<void> } {
  const keys = createKeys(prefix);
  const subscriber = createSubscriber(() => redis.duplicate());
  const coordination = createRedisCoordination({ redis, keys, subscriber });
  return {
    coordination,
    triggers: createRedisTriggerState({ redis, keys }),
    async close() {
      await coordination.close();
      subscriber.close();
    },
  };
}
