import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

/**
 * The one Server-Sent-Events helper: both streaming routes (a run's log, the event
 * stream) hand it a source and it does the rest the same way — the `Last-Event-ID` a
 * reconnecting client sends, heartbeat comments (so proxies keep an idle stream open),
 * an abort signal that fires when the client goes away (so the source releases whatever
 * it blocks on), and an optional final `end` event when the source is exhausted.
 */
export type SseItem =
  | { id?: string; event?: string; data: string }
  /** A comment line: ignored by clients, seen in raw streams (`: too slow; reconnect`). */
  | { comment: string };

export interface SseSourceContext {
  /** The `Last-Event-ID` header of a reconnecting client; resume after it. */
  lastEventId?: string;
  /** Aborts when the client disconnects (or the stream ends); the source must then end. */
  signal: AbortSignal;
}

export interface SseOptions {
  /** Interval of `: heartbeat` comments (ms). */
  heartbeatMs: number;
  /** When set, the stream starts with `retry: <ms>` (the client's reconnection delay) and a `: connected` comment. */
  retryMs?: number;
  /** Called when the source ends while the client is still there; its data becomes one last `end` event. */
  end?: () => Promise<string>;
}

/**
 * Answers with an SSE stream of what `open` returns. `open` runs before anything is
 * written, so a source that subscribes there is listening by the time the client sees
 * the stream open (nothing appended after that is missed).
 */
export function sseResponse(
  c: Context,
  open: (ctx: SseSourceContext) => Promise<AsyncIterable<SseItem>> | AsyncIterable<SseItem>,
  options: SseOptions,
): Response {
  const lastEventId = c.req.header('last-event-id') || undefined;
  return streamSSE(c, async (stream) => {
    const abort = new AbortController();
    stream.onAbort(() => abort.abort());
    const gone = () => abort.signal.aborted || stream.closed;
    const beat = setInterval(() => void stream.write(': heartbeat\n\n').catch(() => undefined), options.heartbeatMs);
    try {
      const items = await open({ lastEventId, signal: abort.signal });
      if (options.retryMs !== undefined) await stream.write(`retry: ${options.retryMs}\n: connected\n\n`);
      for await (const item of items) {
        if (gone()) break;
        if ('comment' in item) await stream.write(`: ${item.comment}\n\n`);
        else await stream.writeSSE(item);
      }
      if (options.end && !gone()) await stream.writeSSE({ event: 'end', data: await options.end() });
    } catch (err) {
      // A client that left mid-write is not an error; anything else is the source's failure.
      if (!gone()) throw err;
    } finally {
      clearInterval(beat);
      // Releases a source still blocked (a log follower's reader) when the stream ends first.
      abort.abort();
    }
  });
}
