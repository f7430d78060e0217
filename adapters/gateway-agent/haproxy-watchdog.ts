import { Backoff } from '../../engine/shared/retry.ts';
import { errorText, type AgentContext } from './agent-context.ts';

/**
 * Restarts HAProxy as soon as it dies, from the last applied config (haproxy-process.ts
 * `restart`). HAProxy runs daemonized (`-D`, needed for hitless reloads), so it is not our
 * child and sends no exit event: the watchdog polls its pid (a /proc read) every `pollMs`.
 * Every gateway answers nothing while HAProxy is down, so waiting for the agent's heartbeat
 * (5 s) is too long. A HAProxy that keeps dying right after a restart is retried with a
 * growing pause (up to `maxBackoffMs`), and the status says so.
 */
export interface HaproxyWatchdogOptions {
  /** Default 100 ms. */
  pollMs?: number;
  /** Pause before the second restart in a row; doubles each time. Default 250 ms. */
  minBackoffMs?: number;
  /** Longest pause between restarts of a crash-looping HAProxy. Default 10 s. */
  maxBackoffMs?: number;
  /** A HAProxy up this long after a restart is healthy again: the pause starts over. Default 10 s. */
  stableMs?: number;
  /** Called after each successful restart (the agent then reconciles). */
  onRestart: () => void;
}

export interface HaproxyWatchdog {
  stop(): void;
}

export function startHaproxyWatchdog(ctx: AgentContext, o: HaproxyWatchdogOptions): HaproxyWatchdog {
  const { state, haproxy, log } = ctx;
  const pollMs = o.pollMs ?? 100;
  const stableMs = o.stableMs ?? 10_000;
  const backoff = new Backoff({ minMs: o.minBackoffMs ?? 250, maxMs: o.maxBackoffMs ?? 10_000, jitter: false });
  let restartedAt = 0;
  let notBefore = 0;
  let busy = false;
  let timer: NodeJS.Timeout | undefined;

  const check = async () => {
    if (state.closed || busy || Date.now() < notBefore) return;
    busy = true;
    try {
      if (await haproxy.running()) {
        if (restartedAt && Date.now() - restartedAt >= stableMs) backoff.reset();
        return;
      }
      // A death soon after our last restart is a crash loop: the next one waits longer.
      const looping = restartedAt > 0 && Date.now() - restartedAt < stableMs;
      state.haproxy.lastExitAt = new Date().toISOString();
      if (looping && !state.haproxy.restartPendingMs) {
        const wait = backoff.next();
        state.haproxy.restartPendingMs = wait;
        notBefore = Date.now() + wait;
        log.warn({ waitMs: wait }, 'HAProxy keeps exiting after restarts; waiting before the next one');
        return;
      }
      state.haproxy.restartPendingMs = undefined;
      const started = Date.now();
      if (await haproxy.restart()) {
        restartedAt = Date.now();
        state.haproxy.restarts = (state.haproxy.restarts ?? 0) + 1;
        state.haproxy.running = true;
        log.warn({ restartMs: restartedAt - started, restarts: state.haproxy.restarts }, 'HAProxy exited; restarted it with the last applied config');
        o.onRestart();
      }
    } catch (err) {
      state.haproxy.lastError = `HAProxy exited and could not be restarted: ${errorText(err)}`;
      restartedAt = Date.now();
      log.error({ err }, 'HAProxy exited and could not be restarted');
    } finally {
      busy = false;
    }
  };

  timer = setInterval(() => void check(), pollMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
