import { createHmac } from 'node:crypto';

/**
 * One HTTP delivery of one notifier body: a POST with Veer's headers, signed when the
 * notifier has a secret, bounded by a timeout. It never throws for the receiver's sake: the
 * answer (or why there was none) comes back classified as delivered, worth retrying (5xx,
 * 408, 429, timeouts, refused or reset connections) or final (other 4xx, redirects).
 *
 * Headers: `X-Veer-Delivery: <notifier>/<event id>` (the same on every retry, so receivers
 * drop duplicates), `X-Veer-Event-Type`, and with a secret `X-Veer-Timestamp: <unix s>` and
 * `X-Veer-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` — the scheme
 * of Stripe and GitHub webhooks: the timestamp is signed, so a receiver can refuse old replays.
 */
export interface DeliveryRequest {
  url: string;
  body: string;
  notifier: string;
  eventId: string;
  eventType: string;
  secret?: string;
  timeoutMs: number;
  /** Stops the request at once (shutdown, lost lease); the result is then not meaningful. */
  signal?: AbortSignal;
  /** Epoch ms the signature's timestamp is taken from (default now). */
  now?: number;
}

export interface DeliveryResult {
  outcome: 'delivered' | 'retry' | 'failed';
  httpStatus?: number;
  error?: string;
  ms: number;
}

/** How much of a refusing receiver's answer is kept in the delivery record. */
const ERROR_BODY_CHARS = 200;

/** `sha256=<hex>` over `${timestamp}.${body}`. */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function deliveryHeaders(req: Pick<DeliveryRequest, 'body' | 'notifier' | 'eventId' | 'eventType' | 'secret' | 'now'>): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Veer-Notifier/1',
    'x-veer-delivery': `${req.notifier}/${req.eventId}`,
    'x-veer-event-type': req.eventType,
  };
  if (req.secret) {
    const timestamp = Math.floor((req.now ?? Date.now()) / 1000);
    headers['x-veer-timestamp'] = String(timestamp);
    headers['x-veer-signature'] = signature(req.secret, timestamp, req.body);
  }
  return headers;
}

/** Throttling and request timeouts are "try later", unlike the rest of 4xx. */
const retryableStatus = (status: number) => status >= 500 || status === 408 || status === 429;

async function excerpt(res: Response): Promise<string> {
  try {
    const text = (await res.text()).trim();
    return text.length > ERROR_BODY_CHARS ? `${text.slice(0, ERROR_BODY_CHARS)}…` : text;
  } catch {
    return '';
  }
}

/** Why a fetch failed without an answer, in words an operator can act on. */
function connectionError(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms (VEER_NOTIFY_TIMEOUT_MS)`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
  return `request failed: ${detail}`;
}

export async function deliver(req: DeliveryRequest): Promise<DeliveryResult> {
  const started = Date.now();
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const ms = () => Date.now() - started;
  try {
    const res = await fetch(req.url, { method: 'POST', headers: deliveryHeaders(req), body: req.body, signal, redirect: 'manual' });
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel().catch(() => undefined);
      return { outcome: 'delivered', httpStatus: res.status, ms: ms() };
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const to = res.headers.get('location');
      return {
        outcome: 'failed',
        httpStatus: res.status,
        error: `redirect${to ? ` to ${to}` : ''} not followed: set the notifier's url to the final address`,
        ms: ms(),
      };
    }
    const text = await excerpt(res);
    return {
      outcome: retryableStatus(res.status) ? 'retry' : 'failed',
      httpStatus: res.status,
      error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${text}` : ''}`,
      ms: ms(),
    };
  } catch (err) {
    return { outcome: 'retry', error: connectionError(err, timeout.aborted && !req.signal?.aborted, req.timeoutMs), ms: ms() };
  }
}
