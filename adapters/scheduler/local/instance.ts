import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import type { Logger } from '../../../engine/shared/logger.ts';
import { Backoff } from '../../../engine/shared/retry.ts';
import type { DeploymentDefinitionSpec } from '../../../engine/domain/deployments/definition.ts';
import type { InstanceState, ObservedInstance } from './state.ts';
import { adoptInstanceProcess, spawnInstanceProcess, type InstanceProcess } from './instance-process.ts';

/**
 * One local instance: a child process on a free loopback port (or one adopted from a
 * supervisor that died), probed for health, restarted with exponential backoff when it exits
 * unexpectedly, drained when asked to stop.
 */
export interface InstanceTimings {
  healthIntervalMs: number;
  healthTimeoutMs: number;
  /** Time between "not ready" and SIGTERM, so gateways polling the endpoints stop routing first. */
  drainMs: number;
  /** Time between SIGTERM and SIGKILL. */
  stopGraceMs: number;
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  /** A run that stayed up this long resets the backoff. */
  backoffResetMs: number;
}

export interface InstanceOptions {
  id: string;
  deployment: string;
  spec: DeploymentDefinitionSpec;
  template: string;
  timings: InstanceTimings;
  baseEnv: Record<string, string>;
  logger: Logger;
  /** Called on every observable change (state, readiness, port, pid). */
  onChange: () => void;
}

export interface Instance {
  readonly id: string;
  readonly template: string;
  readonly state: InstanceState;
  readonly ready: boolean;
  snapshot(): ObservedInstance;
  /** Not ready → wait drainMs → SIGTERM → SIGKILL after stopGraceMs. Resolves when the process is gone. */
  drain(options?: { drainMs?: number }): Promise<void>;
  /** Stops supervising, leaving the process running: another supervisor has adopted it. */
  release(): void;
}

/** A running process a previous supervisor recorded for this instance (succession.ts `sortInheritance`). */
export interface AdoptedProcess {
  pid: number;
  procStart: string;
  port: number;
  ready: boolean;
  restarts: number;
  startedAt: string;
}

const UNHEALTHY_AFTER = 3;

export function startInstance(o: InstanceOptions, adopted?: AdoptedProcess): Instance {
  const t = o.timings;
  let state: InstanceState = adopted ? (adopted.ready ? 'ready' : 'unready') : 'starting';
  let ready = adopted?.ready ?? false;
  let port = adopted?.port ?? 0;
  let child: InstanceProcess | undefined;
  let restarts = adopted?.restarts ?? 0;
  // Deterministic (no jitter): one instance restarting, nothing to spread.
  const backoff = new Backoff({ minMs: t.restartBackoffMs, maxMs: t.restartBackoffMaxMs, jitter: false });
  let startedAt = adopted ? new Date(adopted.startedAt) : new Date();
  let lastExit: string | undefined;
  let failures = 0;
  let probeTimer: NodeJS.Timeout | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  let output = '';
  const log = o.logger.child({ deployment: o.deployment, instance: o.id });

  const set = (s: InstanceState, r: boolean) => {
    if (s === state && r === ready) return;
    state = s;
    ready = r;
    o.onChange();
  };

  const launch = async () => {
    port = await freePort();
    if (stopping) return;
    output = '';
    startedAt = new Date();
    failures = 0;
    const env = { ...o.baseEnv, ...o.spec.env, PORT: String(port), HOST: '127.0.0.1', VEER_DEPLOYMENT: o.deployment, VEER_INSTANCE: o.id };
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-4000);
    };
    const c = spawnInstanceProcess({ command: o.spec.command, args: o.spec.args, cwd: o.spec.cwd, env, onOutput: keep });
    watch(c);
    log.info({ pid: c.pid, port }, 'instance started');
    set('starting', false);
    scheduleProbe();
  };

  const watch = (c: InstanceProcess) => {
    child = c;
    void c.exited.then(({ code, signal }) => onExit(c, code, signal));
  };

  const onExit = (c: InstanceProcess, code: number | null, signal: NodeJS.Signals | null) => {
    if (c !== child) return;
    child = undefined;
    clearTimeout(probeTimer);
    const how = signal ? `signal ${signal}` : code === null ? 'exit (adopted process)' : `code ${code}`;
    lastExit = `${how} at ${new Date().toISOString()}`;
    if (stopping) return;
    if (Date.now() - startedAt.getTime() >= t.backoffResetMs) {
      restarts = 0;
      backoff.reset();
    }
    const wait = backoff.next();
    restarts++;
    log.warn({ code, signal, restartInMs: wait, output: output.slice(-1000) }, 'instance exited; restarting');
    set('crashed', false);
    restartTimer = setTimeout(() => void launch().catch((err) => log.error({ err }, 'restart failed')), wait);
  };

  const scheduleProbe = () => {
    // Starting instances are probed often so scale-up is quick; running ones at the configured interval.
    const every = state === 'starting' ? Math.min(25, t.healthIntervalMs) : t.healthIntervalMs;
    probeTimer = setTimeout(probe, every);
  };

  const probe = async () => {
    if (stopping || !child) return;
    const ok = await healthy(port, o.spec.healthCheck, t.healthTimeoutMs);
    if (stopping || !child) return;
    if (ok) {
      failures = 0;
      if (!ready) log.info({ port }, 'instance ready');
      set('ready', true);
    } else if (state !== 'starting' && ++failures >= UNHEALTHY_AFTER) {
      set('unready', false);
    }
    scheduleProbe();
  };

  if (adopted) {
    // Not our child: its exit is noticed by polling, at most one health interval late.
    watch(adoptInstanceProcess(adopted.pid, adopted.procStart, Math.min(200, t.healthIntervalMs)));
    log.info({ pid: adopted.pid, port }, 'instance adopted from a previous supervisor');
    scheduleProbe();
  } else {
    void launch().catch((err) => {
      log.error({ err }, 'could not start instance');
      set('crashed', false);
    });
  }

  return {
    id: o.id,
    template: o.template,
    get state() {
      return state;
    },
    get ready() {
      return ready;
    },
    snapshot: () => ({
      id: o.id,
      pid: child?.pid,
      ...(child?.procStart ? { procStart: child.procStart } : {}),
      port,
      state,
      ready,
      restarts,
      template: o.template,
      startedAt: startedAt.toISOString(),
      ...(lastExit ? { lastExit } : {}),
    }),
    drain(options = {}) {
      stopping ??= (async () => {
        clearTimeout(probeTimer);
        clearTimeout(restartTimer);
        set('draining', false);
        const c = child;
        if (!c) return;
        const drainMs = options.drainMs ?? t.drainMs;
        if (drainMs > 0) await new Promise((r) => setTimeout(r, drainMs));
        c.kill('SIGTERM');
        const kill = setTimeout(() => c.kill('SIGKILL'), t.stopGraceMs);
        await c.exited;
        clearTimeout(kill);
        log.info({ lastExit }, 'instance stopped');
      })();
      return stopping;
    },
    release() {
      stopping ??= Promise.resolve();
      clearTimeout(probeTimer);
      clearTimeout(restartTimer);
      log.info({ pid: child?.pid }, 'instance handed over to another supervisor');
    },
  };
}

/** One probe: a TCP connect without `path`, else a GET answering 2xx. */
export function healthy(port: number, path: string | undefined, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!path) {
      const s = connect({ host: '127.0.0.1', port, timeout: timeoutMs });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      s.once('timeout', () => (s.destroy(), resolve(false)));
      return;
    }
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}
