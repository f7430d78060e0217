/**
 * HAProxy traffic log: one JSON object per request (http) or connection (tcp), sent by
 * HAProxy as a raw UDP datagram (`log 127.0.0.1:<port> format raw`) from the gateway
 * frontend `g.<gateway>` only, so each request is logged exactly once.
 *
 * Wire fields (HAProxy log-format variables):
 *   ts   accept time, epoch ms (%Ts%ms)        ci, cp  client address and port (PROXY-preserved)
 *   ft   frontend (g.<gateway>)                  b       backend: w.<gateway> (weighted) or r.<gateway>.<route> (condition)
 *   s    server in b: the route (w.*) or the real server (r.*)
 *   is   real server host:port reported by the route backend (http)
 *   m    method, u  request URI (JSON-escaped)   st      HTTP status
 *   Tq Tw Tc Tr Tt  request / queue / connect / response / total time in ms (-1: not reached)
 *   B    bytes sent to the client, U bytes received from it
 *   term termination state with cookie flags (%tsc), rc retries
 *   pid, rq  HAProxy process and its request counter (%pid, %rt): one id per line, so lines
 *            read back from HAProxy's log ring after an agent restart are not counted twice
 */
export const HTTP_LOG_FORMAT =
  '{"ts":%Ts%ms,"ci":"%ci","cp":%cp,"ft":"%ft","b":"%b","s":"%s","is":"%[capture.res.hdr(0),json(utf8s)]",' +
  '"m":"%HM","u":"%[capture.req.uri,json(utf8s)]","st":%ST,"Tq":%Tq,"Tw":%Tw,"Tc":%Tc,"Tr":%Tr,"Tt":%Tt,"B":%B,"U":%U,"term":"%tsc","rc":%rc,"pid":%pid,"rq":%rt}';
export const TCP_LOG_FORMAT =
  '{"ts":%Ts%ms,"ci":"%ci","cp":%cp,"ft":"%ft","b":"%b","s":"%s","Tw":%Tw,"Tc":%Tc,"Tt":%Tt,"B":%B,"U":%U,"term":"%ts","rc":%rc,"pid":%pid,"rq":%rt}';

/** One request through a gateway, as the events/metrics side consumes it. */
export interface GatewayLogRecord {
  /** Epoch ms when HAProxy accepted the connection. */
  timestamp: number;
  gateway: string;
  /** Absent when no route was chosen (e.g. denied by virtual host, or all weights 0). */
  route?: string;
  /** The real server `host:port`; absent when none answered. */
  instance?: string;
  mode: 'http' | 'tcp';
  client: { ip: string; port: number };
  method?: string;
  uri?: string;
  /** HTTP status (-1 if the client went away before one was sent). */
  status?: number;
  /** Milliseconds; -1 when that phase was never reached. */
  timings: { request?: number; queue: number; connect: number; response?: number; total: number };
  bytesOut: number;
  bytesIn: number;
  /** HAProxy termination state, e.g. `----` for a clean end, `sC--` for a server timeout. */
  termination: string;
  retries: number;
  /** Which HAProxy process logged it and its request number there (absent in lines of older agents). */
  seq?: { pid: number; n: number };
}

const none = (v: unknown) => v === undefined || v === '' || v === '-' || v === '<NOSRV>';

/**
 * Parses one datagram. Returns undefined for anything that is not one of our lines (other
 * HAProxy messages such as "Proxy started", or garbage), never throws.
 */
export function parseLogLine(line: string): GatewayLogRecord | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(line.slice(start).trim()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const ft = typeof j.ft === 'string' ? j.ft : '';
  if (!ft.startsWith('g.') || typeof j.ts !== 'number') return undefined;
  const gateway = ft.slice(2);
  const b = String(j.b ?? '');
  const s = none(j.s) ? undefined : String(j.s);
  let route: string | undefined;
  let instance: string | undefined;
  if (b === `w.${gateway}`) {
    route = s;
    instance = none(j.is) ? undefined : String(j.is);
  } else if (b.startsWith(`r.${gateway}.`)) {
    route = b.slice(gateway.length + 3);
    instance = s;
  }
  const num = (v: unknown) => (typeof v === 'number' ? v : -1);
  const http = 'st' in j;
  return {
    timestamp: j.ts,
    gateway,
    ...(route ? { route } : {}),
    ...(instance ? { instance } : {}),
    mode: http ? 'http' : 'tcp',
    client: { ip: String(j.ci ?? ''), port: num(j.cp) },
    ...(http ? { method: String(j.m ?? ''), uri: String(j.u ?? ''), status: num(j.st) } : {}),
    timings: {
      ...(http ? { request: num(j.Tq) } : {}),
      queue: num(j.Tw),
      connect: num(j.Tc),
      ...(http ? { response: num(j.Tr) } : {}),
      total: num(j.Tt),
    },
    bytesOut: num(j.B),
    bytesIn: num(j.U),
    termination: String(j.term ?? ''),
    retries: num(j.rc),
    ...(typeof j.pid === 'number' && typeof j.rq === 'number' ? { seq: { pid: j.pid, n: j.rq } } : {}),
  };
}
