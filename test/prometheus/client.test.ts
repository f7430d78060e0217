import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPrometheusClient } from '../../adapters/prometheus/client.ts';
import type { PrometheusClient, PrometheusData } from '../../engine/ports/prometheus.ts';
import { freePort } from '../helpers/free-port.ts';
import { startMetricsTarget, type MetricsTarget } from '../helpers/metrics-target.ts';
import { startPrometheus, staticScrape, type TestPrometheus } from '../helpers/prometheus-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A stand-in for Prometheus that answers `answer` and remembers what it was sent. */
async function fakePrometheus(answer: (res: import('node:http').ServerResponse) => void) {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (status: number, body: unknown) => (res: import('node:http').ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const EMPTY = { status: 'success', data: { resultType: 'vector', result: [] } };

describe('Prometheus client against a real Prometheus', () => {
  let app: MetricsTarget;
  let prom: TestPrometheus;
  let client: PrometheusClient;
  before(async () => {
    app = await startMetricsTarget();
    app.set('veer_test_total', 7, { path: '/a' });
    prom = await startPrometheus({ scrapeConfigs: [staticScrape('app', [app.target])] });
    client = createPrometheusClient({ url: prom.url, timeoutMs: 5000 });
  });
  after(async () => {
    await prom?.stop();
    await app?.close();
  });

  const valueOf = (d: PrometheusData) => (d.resultType === 'vector' && d.result.length ? d.result[0].value[1] : undefined);

  it('an instant query sees the scraped counter, and its new value after the next scrape', async () => {
    const first = await waitFor(
      async () => {
        const d = await client.query('veer_test_total', {});
        return valueOf(d) === '7' && d;
      },
      { timeoutMs: 20_000, what: 'Prometheus to scrape veer_test_total' },
    );
    assert.equal(first.resultType, 'vector');
    assert.equal(first.resultType === 'vector' && first.result[0].metric.path, '/a');
    assert.equal(first.resultType === 'vector' && first.result[0].metric.job, 'app');

    app.set('veer_test_total', 12, { path: '/a' });
    await waitFor(async () => valueOf(await client.query('sum(veer_test_total)', {})) === '12', { timeoutMs: 20_000, what: 'the new value' });
  });

  it('an instant query at a time before any sample is empty', async () => {
    const d = await client.query('veer_test_total', { atMs: Date.now() - 3600_000 });
    assert.deepEqual(d, { resultType: 'vector', result: [] });
  });

  it('a range query answers a matrix of [seconds, "value"] samples', async () => {
    const d = await waitFor(
      async () => {
        const endMs = Date.now();
        const r = await client.queryRange('veer_test_total', { startMs: endMs - 60_000, endMs, stepMs: 1000 });
        return r.resultType === 'matrix' && r.result.length === 1 && r.result[0].values.length >= 2 && r;
      },
      { timeoutMs: 20_000, what: 'two samples in range' },
    );
    assert.equal(d.resultType, 'matrix');
    const values = d.resultType === 'matrix' ? d.result[0].values : [];
    for (const [t, v] of values) {
      assert.equal(typeof t, 'number');
      assert.ok(['7', '12'].includes(v), v);
    }
    assert.ok(
      values.every(([t], i) => i === 0 || Math.round((t - values[i - 1][0]) * 1000) === 1000),
      'one sample per 1 s step',
    );
  });

  it('a query Prometheus rejects is PROMETHEUS.QUERY with its own message', async () => {
    const raw = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('sum(')}`)).json()) as { errorType: string; error: string };
    assert.equal(raw.errorType, 'bad_data');
    await assert.rejects(client.query('sum(', {}), (err: any) => {
      assert.equal(err.code, 'PROMETHEUS.QUERY');
      assert.ok(err.message.includes(raw.error), err.message);
      assert.deepEqual(err.details, { errorType: 'bad_data', error: raw.error });
      return true;
    });
    await assert.rejects(client.queryRange('rate(veer_test_total)', { startMs: Date.now() - 60_000, endMs: Date.now(), stepMs: 1000 }), {
      code: 'PROMETHEUS.QUERY',
      message: /range vector/,
    });
  });

  it('a stopped Prometheus is PROMETHEUS.UNAVAILABLE, naming where it was', async () => {
    const gone = await startPrometheus();
    const c = createPrometheusClient({ url: gone.url, timeoutMs: 5000 });
    assert.equal((await c.query('1', {})).resultType, 'scalar');
    await gone.stop();
    await assert.rejects(c.query('1', {}), (err: any) => {
      assert.equal(err.code, 'PROMETHEUS.UNAVAILABLE');
      assert.equal(err.retryable, true);
      assert.ok(err.message.includes(gone.url), err.message);
      return true;
    });
  });
});

describe('Prometheus client: errors and auth (local stand-ins)', () => {
  it('a port nothing listens on is PROMETHEUS.UNAVAILABLE; credentials in the URL stay out of the message', async () => {
    const port = await freePort();
    const c = createPrometheusClient({ url: `http://admin:hunter2@127.0.0.1:${port}/`, timeoutMs: 5000 });
    assert.equal(c.target, `http://127.0.0.1:${port}`);
    await assert.rejects(c.query('up', {}), (err: any) => {
      assert.equal(err.code, 'PROMETHEUS.UNAVAILABLE');
      assert.ok(err.message.includes(`http://127.0.0.1:${port}`), err.message);
      assert.match(err.message, /ECONNREFUSED/);
      assert.ok(!JSON.stringify(err.toData()).includes('hunter2'));
      return true;
    });
  });

  it('sends the bearer token, or basic auth, and the query as a form with times in seconds', async () => {
    const fake = await fakePrometheus(json(200, EMPTY));
    try {
      await createPrometheusClient({ url: fake.url, auth: { bearer: 's3cret' }, timeoutMs: 5000 }).query('up == 1', { atMs: 1_700_000_000_500 });
      assert.equal(fake.seen[0].headers.authorization, 'Bearer s3cret');
      assert.equal(fake.seen[0].url, '/api/v1/query');
      assert.deepEqual(Object.fromEntries(new URLSearchParams(fake.seen[0].body)), { query: 'up == 1', time: '1700000000.5' });

      await createPrometheusClient({ url: `${fake.url}/prom/`, auth: { username: 'veer', password: 'pw' }, timeoutMs: 5000 }).queryRange('up', {
        startMs: 1000,
        endMs: 61_000,
        stepMs: 15_000,
      });
      assert.equal(fake.seen[1].headers.authorization, `Basic ${Buffer.from('veer:pw').toString('base64')}`);
      assert.equal(fake.seen[1].url, '/prom/api/v1/query_range');
      assert.deepEqual(Object.fromEntries(new URLSearchParams(fake.seen[1].body)), { query: 'up', start: '1', end: '61', step: '15' });

      await createPrometheusClient({ url: `http://u%40x:p%3Aw@${fake.url.slice('http://'.length)}`, timeoutMs: 5000 }).query('up', {});
      assert.equal(fake.seen[2].headers.authorization, `Basic ${Buffer.from('u@x:p:w').toString('base64')}`, 'URL credentials become basic auth');
      assert.equal(new URLSearchParams(fake.seen[2].body).get('time'), null, 'no time: Prometheus evaluates at its own now');
    } finally {
      await fake.close();
    }
  });

  it('5xx, an auth refusal and a non-Prometheus answer are PROMETHEUS.UNAVAILABLE; 422 is PROMETHEUS.QUERY', async () => {
    const cases: Array<[string, (res: import('node:http').ServerResponse) => void, string, RegExp]> = [
      [
        '503',
        json(503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }),
        'PROMETHEUS.UNAVAILABLE',
        /answered 503: query timed out/,
      ],
      ['500 text', (res) => res.writeHead(500).end('oops'), 'PROMETHEUS.UNAVAILABLE', /answered 500/],
      ['401', (res) => res.writeHead(401).end('unauthorized'), 'PROMETHEUS.UNAVAILABLE', /answered 401.*VEER_PROMETHEUS_TOKEN/],
      ['html', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'), 'PROMETHEUS.UNAVAILABLE', /without a query result/],
      ['422', json(422, { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' }), 'PROMETHEUS.QUERY', /many-to-many/],
    ];
    for (const [what, answer, code, message] of cases) {
      const fake = await fakePrometheus(answer);
      try {
        await assert.rejects(createPrometheusClient({ url: fake.url, timeoutMs: 5000 }).query('up', {}), { code, message }, what);
      } finally {
        await fake.close();
      }
    }
  });

  it('a Prometheus that does not answer in timeoutMs is PROMETHEUS.UNAVAILABLE; a cancelled caller gets its own reason', async () => {
    const fake = await fakePrometheus(() => {});
    try {
      await assert.rejects(createPrometheusClient({ url: fake.url, timeoutMs: 200 }).query('up', {}), {
        code: 'PROMETHEUS.UNAVAILABLE',
        message: /timed out after 200 ms/,
      });
      const ac = new AbortController();
      const pending = createPrometheusClient({ url: fake.url, timeoutMs: 60_000 }).query('up', { signal: ac.signal });
      await waitFor(() => fake.seen.length === 2, { what: 'the second request to arrive' });
      ac.abort(new Error('run cancelled'));
      await assert.rejects(pending, { message: 'run cancelled' });
    } finally {
      await fake.close();
    }
  });
});
