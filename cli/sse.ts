import { EventSource, type FetchLike } from 'eventsource';
import { apiError, unreachable } from './client.ts';
import { CliError, EXIT } from './errors.ts';

/** One Server-Sent Event as a command sees it. */
export interface SseEvent {
  /** The event name (`message` when the server names none). */
  type: string;
  data: string;
  /** The stream's last event id (what a reconnect resumes after). */
  id: string;
}

export interface FollowSseOptions {
  /** Bearer token, sent on every (re)connection; never printed. */
  token?: string;
  /** Resume after this id on the first connection (later ones use the stream's own). */
  lastEventId?: string;
  /** Aborting stops following: followSse resolves with 'aborted'. */
  signal: AbortSignal;
  /** Event names to listen for; default `message` (events sent without a name). */
  events?: string[];
  /** Called per event; returning true ends the follow (the stream's last event, e.g. a run's `end`). */
  onEvent(event: SseEvent): boolean | void;
  /** Told when the connection drops (and keeps being retried) and when it is back: messages for stderr. */
  onStatus?(status: 'reconnecting' | 'connected', detail?: string): void;
  /** Delay before reconnecting after a 5xx answer (EventSource itself gives up on any non-200). */
  retryMs?: number;
}

const parseBody = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * Follows an SSE stream with the `eventsource` client, the one way the CLI does it (`logs -f`,
 * `events tail`). EventSource reconnects by itself with Last-Event-ID when the server closes the
 * stream or the connection drops, retrying while the API is down; this adds the token, resumes a
 * 5xx answer (a proxy in front of a restarting API) the same way rather than giving up, and turns a
 * 4xx answer or an API that never answered into the CLI's error with its exit code.
 */
export function followSse(url: string, options: FollowSseOptions): Promise<'ended' | 'aborted'> {
  const { signal, token } = options;
  const names = options.events ?? ['message'];
  return new Promise((resolve, reject) => {
    let lastId = options.lastEventId;
    let es: EventSource | undefined;
    let opened = false;
    let down = false;
    let done = false;
    let answer: { status: number; body: unknown } | undefined;
    let networkError: unknown;
    let restart: NodeJS.Timeout | undefined;
    // EventSource unrefs its reconnect timer: without a ref'd handle the process would exit mid-outage.
    const keepAlive = setInterval(() => {}, 1 << 30);

    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearInterval(keepAlive);
      clearTimeout(restart);
      signal.removeEventListener('abort', onAbort);
      es?.close();
      settle();
    };
    const onAbort = () => finish(() => resolve('aborted'));

    const fetchWithToken: FetchLike = async (input, init) => {
      const headers: Record<string, string> = { ...init.headers };
      if (token) headers.authorization = `Bearer ${token}`;
      // A fresh EventSource (first connection, or after a 5xx) knows no id yet: resume from ours.
      if (lastId && !Object.keys(headers).some((h) => h.toLowerCase() === 'last-event-id')) headers['Last-Event-ID'] = lastId;
      let res: Response;
      try {
        res = await fetch(input, { ...init, headers });
      } catch (err) {
        networkError = err;
        throw err;
      }
      if (res.status === 200) return res;
      answer = { status: res.status, body: parseBody(await res.text().catch(() => '')) };
      // Its body is read; EventSource only needs the status to fail the connection.
      return new Response(null, { status: res.status, headers: res.headers });
    };

    const connect = () => {
      answer = undefined;
      networkError = undefined;
      const source = new EventSource(url, { fetch: fetchWithToken });
      es = source;
      source.addEventListener('open', () => {
        opened = true;
        if (down) options.onStatus?.('connected');
        down = false;
      });
      source.addEventListener('error', (ev) => {
        if (done) return;
        const why = answer ? `HTTP ${answer.status}` : ((ev as Event & { message?: string }).message ?? 'connection lost');
        if (source.readyState === EventSource.CONNECTING) {
          // Never connected: the API is not there at all, as for any other command (exit 5).
          if (!opened && networkError !== undefined) return finish(() => reject(unreachable(url, networkError)));
          if (!down) options.onStatus?.('reconnecting', why);
          down = true;
          return;
        }
        // CLOSED: EventSource gave up (a non-200 answer or a body that is not an event stream).
        if (answer && answer.status >= 500) {
          if (!down) options.onStatus?.('reconnecting', why);
          down = true;
          restart = setTimeout(connect, options.retryMs ?? 2000);
          return;
        }
        if (answer) return finish(() => reject(apiError(answer!.status, answer!.body)));
        finish(() => reject(new CliError(`${url}: not an event stream (${why})`, EXIT.failed)));
      });
      for (const name of names) {
        source.addEventListener(name, (ev: MessageEvent) => {
          if (done) return;
          if (ev.lastEventId) lastId = ev.lastEventId;
          let last: boolean | void;
          try {
            last = options.onEvent({ type: name, data: ev.data, id: ev.lastEventId });
          } catch (err) {
            return finish(() => reject(err));
          }
          if (last === true) finish(() => resolve('ended'));
        });
      }
    };

    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    connect();
  });
}
