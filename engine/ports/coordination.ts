/**
 * How processes cooperate without talking to each other: leases (one holder at a time,
 * lost by a holder that stops renewing), a leader loop built on them, change signals
 * (fire-and-forget broadcasts between processes) and the registry of engine heartbeats
 * that readiness reads.
 *
 * Errors: `<STORE>.UNAVAILABLE` (retryable) when the backing store cannot be reached.
 */
export interface Lease {
  /** The name it was created with (`Coordination.lease(name)`). */
  readonly name: string;
  /** Identifies this holder; a store writes "only while held" by comparing it. */
  readonly token: string;
  /** Takes the lease if free (or already ours). */
  acquire(): Promise<boolean>;
  /** Extends our lease; false when it is no longer ours. */
  renew(): Promise<boolean>;
  /** Gives the lease up if we hold it. */
  release(): Promise<void>;
}

export interface LeaderOptions {
  /** How long a dead holder blocks a standby. Renewed every ttl/3. */
  ttlMs: number;
  /** Called while this process holds the lease; `signal` aborts when it is lost or on stop. */
  work: (signal: AbortSignal, lease: Lease) => Promise<void>;
  /** Pause after `work` throws before trying again (grows while it keeps throwing). Default 1000 ms. */
  retryMs?: number;
  /**
   * While renewals fail with store errors, keep working until the store refuses the lease
   * (for work that is costly to stop, like local processes). Default false: `signal` aborts
   * once a whole TTL passed without a successful renewal.
   */
  holdThroughStoreErrors?: boolean;
  /** Told about store errors and throws of `work` (log them). */
  onError?: (err: unknown) => void;
}

export interface Leadership {
  /** Whether this process holds the lease and runs `work` now. */
  readonly leader: boolean;
  /** Resolves after the first attempt to take the lease (once `work` was called, if it was taken). */
  readonly ready: Promise<void>;
  /** Aborts `work`, waits for it to return, and releases the lease. */
  stop(): Promise<void>;
}

export interface EngineStatus {
  id: string;
  pid: number;
  /** Worker running and its blocking connection ready. */
  healthy: boolean;
  active: number;
  at: string;
}

export interface Coordination {
  /** A lease named `name` (one holder per name across processes), lost `ttlMs` after its last renewal. */
  lease(name: string, ttlMs: number): Lease;
  /** Competes for lease `name` and runs `options.work` whenever it is held, until stopped. */
  runAsLeader(name: string, options: LeaderOptions): Leadership;
  /** Broadcasts `message` to every process listening on `channel`. */
  signal(channel: string, message: string): Promise<void>;
  /** Resolves once listening; returns an unsubscribe. */
  listen(channel: string, listener: (message: string) => void): Promise<() => void>;
  engines: {
    /** Records a heartbeat that expires after `ttlMs`. */
    beat(status: EngineStatus, ttlMs: number): Promise<void>;
    /** Forgets an engine at once (clean shutdown). */
    remove(id: string): Promise<void>;
    /** Engines with a fresh heartbeat. */
    list(): Promise<EngineStatus[]>;
  };
  /** Whether the backing store answers within `timeoutMs`; throws `<STORE>.UNAVAILABLE` with why. */
  ping(timeoutMs: number): Promise<void>;
  /** Stops listening and every leadership started here. */
  close(): Promise<void>;
}
