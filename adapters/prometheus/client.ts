import type { PrometheusClient, PrometheusData } from '../../engine/ports/prometheus.ts';
import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';
import type { PrometheusConfig } from './config.ts';

const RESULT_TYPES = new Set(['vector', 'matrix', 'scalar', 'string']);

/**
 * PrometheusClient over Prometheus' HTTP API with the global fetch. Queries are POSTed as a
 * form, so a long PromQL expression never hits a URL length limit; times go as epoch seconds.
 * Credentials written into the URL (`http://user:pass@host`) become basic auth when no other
 * auth is configured, and never appear in `target` or in error messages.
 */
export function createPrometheusClient(config: PrometheusConfig & { url: string }): PrometheusClient {
  const base = new URL(config.url);
  const urlAuth = base.username ? { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) } : undefined;
  base.username = '';
  base.password = '';
  const target = base.href.replace(/\/+$/, '');
  const auth = config.auth ?? urlAuth;
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
  if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
  else if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;

  async function call(path: string, form: Record<string, string>, signal: AbortSignal | undefined): Promise<PrometheusData> {
    const url = `${target}${path}`;
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const res = await (async () => {
      try {
        const r = await fetch(url, {
          method: 'POST',
          headers,
          body: new URLSearchParams(form),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          redirect: 'error',
        });
        return { status: r.status, text: await r.text() };
      } catch (err) {
        // The run was cancelled or ran out of time: that is the run's own ending, not Prometheus being down.
        if (signal?.aborted) throw signal.reason ?? err;
        const why = timeout.aborted ? `timed out after ${config.timeoutMs} ms (VEER_PROMETHEUS_TIMEOUT_MS)` : `is unreachable (${causeOf(err)})`;
        throw new UnavailableError('PROMETHEUS.UNAVAILABLE', `Prometheus at ${target} ${why}`, { details: { target } });
      }
    })();
    const body = parseJson(res.text);
    if ((res.status === 400 || res.status === 422) && body?.status === 'error' && typeof body.error === 'string') {
      const details = { errorType: typeof body.errorType === 'string' ? body.errorType : 'bad_data', error: body.error };
      throw new VeerError('PROMETHEUS.QUERY', `Prometheus rejected the query: ${body.error}`, { details });
    }
    if (res.status !== 200) {
      const said = body?.status === 'error' && typeof body.error === 'string' ? `: ${body.error}` : '';
      const hint = res.status === 401 || res.status === 403 ? ' (check VEER_PROMETHEUS_TOKEN or VEER_PROMETHEUS_USERNAME/PASSWORD)' : '';
      throw new UnavailableError('PROMETHEUS.UNAVAILABLE', `Prometheus at ${target} answered ${res.status}${said}${hint}`, {
        details: { target, status: res.status },
      });
    }
    const data = body?.status === 'success' ? (body.data as { resultType?: unknown; result?: unknown } | undefined) : undefined;
    if (!data || !RESULT_TYPES.has(String(data.resultType)) || !Array.isArray(data.result)) {
      throw new UnavailableError(
        'PROMETHEUS.UNAVAILABLE',
        `Prometheus at ${target} answered 200 without a query result: is VEER_PROMETHEUS_URL a Prometheus?`,
        {
          details: { target, status: res.status },
        },
      );
    }
    return data as PrometheusData;
  }

  const seconds = (ms: number) => String(ms / 1000);
  return {
    target,
    query: (query, { atMs, signal }) => call('/api/v1/query', { query, ...(atMs === undefined ? {} : { time: seconds(atMs) }) }, signal),
    queryRange: (query, { startMs, endMs, stepMs, signal }) =>
      call('/api/v1/query_range', { query, start: seconds(startMs), end: seconds(endMs), step: seconds(stepMs) }, signal),
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** fetch's own message is "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is in its cause. */
function causeOf(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
