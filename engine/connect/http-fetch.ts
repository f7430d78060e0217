import type { HttpCapability, HttpResponse } from '../../workflows/types.ts';
import type { HostCapability, RunScope } from '../sandbox/capabilities.ts';
import { PermissionError, UnavailableError, ValidationError, VeerError } from '../shared/errors.ts';
import { assertEgressAllowed, systemResolve, type Resolve } from './egress-guard.ts';
import { allowingPattern, literalHost, loggableUrl } from './url-patterns.ts';

export interface HttpEgressOptions {
  /** Largest response body read (VEER_HTTP_MAX_BYTES). */
  maxBytes: number;
  /** Redirects followed (VEER_HTTP_MAX_REDIRECTS). */
  maxRedirects: number;
  /** Host name → addresses, for the egress guard; default the system resolver. */
  resolve?: Resolve;
}

/** What ctx.http.fetch returns across the boundary; `json()` is added inside the isolate. */
export type HostHttpResponse = Omit<HttpResponse, 'json'>;

/** A checked request: what the script asked for, refused before anything is sent when it is not allowed. */
export interface HttpRequestPlan {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** The allowing pattern's own host when it names one without `*` (the egress guard lets that host through). */
  literal: string | undefined;
}

const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
export const READ_METHODS = new Set(['GET', 'HEAD']);

const bad = (path: string, message: string) => new ValidationError(`ctx.http.fetch: ${path} ${message}`, [{ path, message }]);

/** Parses the URL and checks it against the workflow's `permissions.http` (PermissionError naming the URL and the list). */
function allowedUrl(scope: RunScope, raw: string, redirectedFrom?: URL): { url: URL; literal: string | undefined } {
  let url: URL;
  try {
    url = new URL(raw, redirectedFrom);
  } catch {
    throw bad('url', `must be an absolute http:// or https:// URL, got ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('url', `must be http:// or https://, not ${url.protocol}`);
  // Credentials in a URL end up in logs and audit entries; a header keeps them out.
  if (url.username || url.password) throw bad('url', 'must not carry user:password@; send an Authorization header (read the value with ctx.secrets.get)');
  url.hash = '';
  const patterns = scope.workflow.permissions.http ?? [];
  const pattern = allowingPattern(patterns, url.href);
  if (pattern === undefined) {
    const what = redirectedFrom ? `a redirect from ${loggableUrl(redirectedFrom)} to ${loggableUrl(url)}` : loggableUrl(url);
    throw new PermissionError(
      `workflow '${scope.workflow.name}' may not request ${what}: no pattern in permissions.http matches it (${patterns.length ? patterns.map((p) => JSON.stringify(p)).join(', ') : 'none granted; add one, e.g. "' + url.origin + '/*"'})`,
      { url: loggableUrl(url), allowed: patterns },
    );
  }
  return { url, literal: literalHost(pattern) };
}

/** The checks a request passes before it is sent (and a dry run passes without sending). */
export function planRequest(scope: RunScope, rawUrl: unknown, rawOptions: unknown): HttpRequestPlan {
  const o = (rawOptions ?? {}) as { method?: unknown; headers?: unknown; body?: unknown; timeoutMs?: unknown };
  const { url, literal } = allowedUrl(scope, String(rawUrl));
  const method = typeof o.method === 'string' ? o.method : 'GET';
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((o.headers ?? {}) as Record<string, string>)) {
    const name = k.toLowerCase();
    if (FORBIDDEN_HEADERS.has(name)) throw bad(`options.headers.${k}`, 'is set by Veer (leave it out)');
    // fetch would refuse it only once sending, which reads as the server being unreachable.
    try {
      new Headers([[k, String(v)]]);
    } catch {
      throw bad(`options.headers.${k}`, "is not a valid header: names are letters, digits and !#$%&'*+-.^_`|~, values have no line breaks");
    }
    headers[name] = String(v);
  }
  headers['user-agent'] ??= 'veer';
  let body: string | undefined;
  if (o.body !== undefined && o.body !== null) {
    if (READ_METHODS.has(method)) throw bad('options.body', `is not allowed with ${method}`);
    if (typeof o.body === 'string') body = o.body;
    else {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const left = Math.max(1, scope.deadline - Date.now());
  const asked = typeof o.timeoutMs === 'number' ? o.timeoutMs : left;
  return { url, method, headers, body, timeoutMs: Math.min(asked, left), literal };
}

/** Lower-case names → values; a repeated header (each Set-Cookie comes on its own) is joined with ", " as `Headers.get` does. */
function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = Object.hasOwn(out, name) ? `${out[name]}, ${value}` : value;
  });
  return out;
}

/** Reads at most `max` bytes of the body; past it the request is aborted and the call fails HTTP.TOO_LARGE. */
async function readCapped(res: Response, max: number, url: URL, abort: () => void): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      abort();
      await reader.cancel().catch(() => undefined);
      throw new VeerError('HTTP.TOO_LARGE', `ctx.http.fetch: the answer of ${loggableUrl(url)} is larger than ${max} bytes (VEER_HTTP_MAX_BYTES)`, {
        details: { url: loggableUrl(url), limit: max },
      });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `ctx.http.fetch(url, options)`: one request (and its allowed redirects) to a URL matching
 * `permissions.http`, guarded against link-local and metadata addresses, bounded in time (the
 * call's `timeoutMs` and the run's deadline), size (VEER_HTTP_MAX_BYTES) and number
 * (VEER_BUDGET_HTTP_REQUESTS; each redirect followed counts). Non-2xx answers are answers, not
 * errors. Every hop is written to the run log without its query string.
 */
export function createHttpCapability(o: HttpEgressOptions): HostCapability<HttpCapability> {
  const resolve = o.resolve ?? systemResolve;
  return {
    fetch: async (scope, rawUrl, rawOptions) => {
      const plan = planRequest(scope, rawUrl, rawOptions);
      const timeout = AbortSignal.timeout(plan.timeoutMs);
      const local = new AbortController();
      const signal = AbortSignal.any([scope.signal, timeout, local.signal]);
      let { url, method, body, literal } = plan;
      const headers = { ...plan.headers };
      for (let hop = 0; ; hop++) {
        // The lookup is bounded like the request: a hanging resolver must not hold the call past timeoutMs.
        const stop = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        stop.catch(() => undefined);
        try {
          await Promise.race([assertEgressAllowed(url, literal, resolve), stop]);
        } catch (err) {
          if (scope.signal.aborted) throw scope.signal.reason;
          if (timeout.aborted) throw new UnavailableError('HTTP.UNAVAILABLE', `ctx.http.fetch: resolving ${url.hostname} timed out after ${plan.timeoutMs} ms`);
          throw err;
        }
        const started = Date.now();
        // A failure while connecting or while the body streams in (a server stalling mid-answer) reads the same to the script.
        const unavailable = (err: unknown, since: number): unknown => {
          if (scope.signal.aborted) return scope.signal.reason;
          const why = timeout.aborted ? `timed out after ${plan.timeoutMs} ms` : ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
          scope.log('warn', `http ${method} ${loggableUrl(url)} failed after ${Date.now() - since} ms: ${why}`, { method, url: loggableUrl(url) });
          return new UnavailableError('HTTP.UNAVAILABLE', `ctx.http.fetch: ${method} ${loggableUrl(url)} ${why}`, { details: { url: loggableUrl(url) } });
        };
        let res: Response;
        try {
          res = await fetch(url, { method, headers, body, redirect: 'manual', signal });
        } catch (err) {
          throw unavailable(err, started);
        }
        const location = res.headers.get('location');
        if (REDIRECTS.has(res.status) && location !== null) {
          scope.log('info', `http ${method} ${loggableUrl(url)} → ${res.status} in ${Date.now() - started} ms`, {
            method,
            url: loggableUrl(url),
            status: res.status,
          });
          await res.body?.cancel().catch(() => undefined);
          if (hop + 1 > o.maxRedirects)
            throw new VeerError(
              'HTTP.REDIRECTS',
              `ctx.http.fetch: more than ${o.maxRedirects} redirects from ${loggableUrl(plan.url)} (VEER_HTTP_MAX_REDIRECTS)`,
            );
          const next = allowedUrl(scope, location, url);
          scope.budget?.consume('httpRequests', 1);
          // As browsers do: 303 (and 301/302 after a POST) continue as GET without a body.
          if (res.status === 303 ? method !== 'HEAD' : (res.status === 301 || res.status === 302) && method === 'POST') {
            method = 'GET';
            body = undefined;
            delete headers['content-type'];
          }
          // Credentials meant for one origin are not handed to another (the fetch spec's rule).
          if (next.url.origin !== url.origin) {
            delete headers.authorization;
            delete headers['proxy-authorization'];
            delete headers.cookie;
          }
          url = next.url;
          literal = next.literal;
          continue;
        }
        let text = '';
        try {
          if (method !== 'HEAD') text = await readCapped(res, o.maxBytes, url, () => local.abort());
        } catch (err) {
          throw err instanceof VeerError ? err : unavailable(err, started);
        }
        const ms = Date.now() - started;
        scope.log(res.ok ? 'info' : 'warn', `http ${method} ${loggableUrl(url)} → ${res.status} in ${ms} ms`, {
          method,
          url: loggableUrl(url),
          status: res.status,
          ms,
        });
        return { status: res.status, headers: headerRecord(res.headers), text, url: url.href } satisfies HostHttpResponse as HttpResponse;
      }
    },
  };
}
