import { EventSource } from 'eventsource';
import { remoteSource, type EventOrigin, type VeerEvent } from '../../engine/domain/event.ts';
import type { TriggerState } from '../../engine/ports/trigger-state.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { Backoff } from '../../engine/shared/retry.ts';

export interface RemoteEventSourceOptions {
  /** An SSE endpoint, e.g. another Veer's `/api/v1/events/stream?tag=deployments`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Where received events go: the local bus (`bus.emit`), with their origin (`remote:<url>`, the remote's hop count). */
  emit: (input: unknown, origin: EventOrigin) => Promise<unknown>;
  /** Keeps the last received id so a restart resumes (Last-Event-ID) where it stopped. */
  positions: TriggerState['remote'];
  logger: Logger;
  /** Source tag added to every received event as `remote:<label>`. Default: the URL's host. */
  label?: string;
  /** Wait before reconnecting after the local bus refused an event (ms); grows while it keeps refusing. Default 2000. */
  retryMs?: number;
}

export interface RemoteEventSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): { received: number; forwarded: number; skipped: number; lastEventId?: string };
}

/**
 * Follows another installation's event stream and re-publishes what arrives on the local
 * bus, tagged `remote:<label>` and published as source `remote:<url>` (never as `veer`: a
 * trigger accepts them only when its `sources` say so or it names none), keeping the
 * remote's hop count so loops across installations end too. Events that already carry a
 * `remote:*` tag or source are not forwarded again (two installations following each other
 * would otherwise echo forever). Delivery is at-least-once: the last id is
 * saved after the local append, and `Last-Event-ID` resumes from it after a reconnect
 * or restart.
 */
export function createRemoteEventSource(options: RemoteEventSourceOptions): RemoteEventSource {
  const log = options.logger.child({ component: 'remote-events', url: options.url });
  const label = (options.label ?? new URL(options.url).host).replace(/[^A-Za-z0-9_.\-/:@]/g, '-');
  const from = remoteSource(options.url);
  const stats = { received: 0, forwarded: 0, skipped: 0, lastEventId: undefined as string | undefined };
  let es: EventSource | undefined;
  let chain: Promise<void> = Promise.resolve();
  let stopped = true;
  let retry: NodeJS.Timeout | undefined;
  const backoff = new Backoff({ minMs: options.retryMs ?? 2000, maxMs: (options.retryMs ?? 2000) * 8 });

  function connect(): void {
    if (stopped) return;
    const source = new EventSource(options.url, {
      fetch: (input, init) => {
        const headers: Record<string, string> = { ...init.headers };
        if (options.token) headers.Authorization = `Bearer ${options.token}`;
        // The library resends the id it saw; after a restart we supply the saved one.
        if (!headers['Last-Event-ID'] && stats.lastEventId) headers['Last-Event-ID'] = stats.lastEventId;
        return fetch(input, { ...init, headers });
      },
    });
    source.onmessage = (m) => {
      stats.received++;
      chain = chain.then(() => forward(source, m.data, m.lastEventId));
    };
    source.onerror = (err) => log.debug({ err: err.message }, 'remote event stream interrupted; reconnecting');
    es = source;
  }

  async function forward(source: EventSource, data: string, id: string): Promise<void> {
    if (source !== es) return;
    let event: VeerEvent;
    try {
      event = JSON.parse(data) as VeerEvent;
    } catch {
      stats.skipped++;
      return;
    }
    try {
      if (!Array.isArray(event.tags) || event.tags.some((t) => t.startsWith('remote:')) || String(event.source ?? '').startsWith('remote:')) {
        stats.skipped++;
      } else {
        const hops = Number.isInteger(event.hops) && (event.hops ?? 0) > 0 ? event.hops : 0;
        await options.emit(
          { tags: [...event.tags, `remote:${label}`], type: event.type, value: event.value, timestamp: event.timestamp },
          { source: from, hops },
        );
        stats.forwarded++;
        backoff.reset();
      }
      if (id) {
        stats.lastEventId = id;
        await options.positions.saveLastEventId(options.url, id);
      }
    } catch (err) {
      // Keep the position before this event and reconnect from it: nothing is skipped.
      log.warn({ err }, 'could not publish a remote event locally; reconnecting from the last saved id');
      if (source === es) {
        source.close();
        es = undefined;
        retry = setTimeout(connect, backoff.next());
      }
    }
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      stats.lastEventId = await options.positions.lastEventId(options.url);
      connect();
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      es?.close();
      es = undefined;
      await chain;
    },
    stats: () => ({ ...stats }),
  };
}
