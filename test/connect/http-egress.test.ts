import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assertEgressAllowed } from '../../engine/connect/egress-guard.ts';
import { urlPatternMatches } from '../../engine/connect/url-patterns.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local server with the answers the tests need; `seen` is every request it got. */
async function startUpstream(): Promise<{ base: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const held: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const path = req.url!.split('?')[0];
      if (path === '/hello') return res.writeHead(200, { 'x-test': 'yes', 'content-type': 'text/plain' }).end('hi there');
      if (path === '/json') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer: 42 }));
      if (path === '/redirect-ok') return res.writeHead(302, { location: '/hello' }).end();
      if (path === '/redirect-out') return res.writeHead(302, { location: 'http://127.0.0.2:9/elsewhere' }).end();
      if (path === '/loop') return res.writeHead(307, { location: '/loop' }).end();
      if (path === '/big') return res.writeHead(200).end('x'.repeat(4096));
      if (path === '/missing') return res.writeHead(404).end('no such thing');
      if (path === '/slow') return void held.push(() => res.end('late'));
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ got: body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const release of held) release();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** An uncaught ctx error fails the run as SCRIPT.ERROR with the capability's code at the end of the message. */
const codeOf = (run: { error?: { code: string; message: string } }) =>
  run.error?.code === 'SCRIPT.ERROR' ? /\[([A-Z_.]+)\]$/.exec(run.error.message)?.[1] : run.error?.code;

describe('ctx.http.fetch', () => {
  let t: TestSystem;
  let up: Awaited<ReturnType<typeof startUpstream>>;
  const wf = workflowCalls(() => t);
  const run = async (script: string, http: string[], input?: unknown) => {
    await wf.put('caller', { script, permissions: { http } });
    return wf.finished((await t.call('POST', '/api/v1/workflows/caller/runs', input === undefined ? {} : { input })).body.id);
  };
  before(async () => {
    up = await startUpstream();
    t = await startTestSystem({ env: { VEER_HTTP_MAX_BYTES: '1024', VEER_HTTP_MAX_REDIRECTS: '2', VEER_BUDGET_HTTP_REQUESTS: '3' } });
  });
  after(async () => {
    await t.stop();
    await up.close();
  });

  it('answers an allowed GET with status, headers, text and json(), and logs it without the query string', async () => {
    const r = await run(
      `export default async (ctx) => {
        const a = await ctx.http.fetch('${up.base}/hello?token=abc123');
        const b = await ctx.http.fetch('${up.base}/json');
        const c = await ctx.http.fetch('${up.base}/missing');
        return { status: a.status, header: a.headers['x-test'], text: a.text, json: b.json(), missing: c.status, url: a.url };
      }`,
      [`${up.base}/*`],
    );
    assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
    assert.deepEqual(r.result, { status: 200, header: 'yes', text: 'hi there', json: { answer: 42 }, missing: 404, url: `${up.base}/hello?token=abc123` });
    assert.equal(up.seen.find((s) => s.url.startsWith('/hello'))?.headers['user-agent'], 'veer');
    const log = JSON.stringify((await t.call('GET', `/api/v1/runs/${r.id}/logs`)).body);
    assert.ok(log.includes(`http GET ${up.base}/hello?… → 200`), log);
    assert.ok(log.includes(`http GET ${up.base}/missing → 404`), log);
    assert.ok(!log.includes('abc123'), 'the query string stays out of the log');
  });

  it('refuses a URL outside permissions.http, naming the URL and the list, and sends nothing', async () => {
    const before = up.seen.length;
    const r = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/hello?secret=1')`, [`${up.base}/json`]);
    assert.equal(r.status, 'failed');
    assert.equal(codeOf(r), 'PERMISSION');
    assert.match(r.error.message, new RegExp(`may not request ${up.base}/hello\\?….*"${up.base}/json"`));
    const none = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/hello')`, []);
    assert.match(none.error.message, /none granted; add one, e.g\./);
    assert.equal(up.seen.length, before);
  });

  it('follows redirects only to allowed URLs, and at most VEER_HTTP_MAX_REDIRECTS', async () => {
    const ok = await run(`export default async (ctx) => (await ctx.http.fetch('${up.base}/redirect-ok')).text`, [`${up.base}/*`]);
    assert.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
    assert.equal(ok.result, 'hi there');
    const out = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/redirect-out')`, [`${up.base}/*`]);
    assert.equal(codeOf(out), 'PERMISSION');
    assert.match(out.error.message, /a redirect from .*\/redirect-out to http:\/\/127\.0\.0\.2:9\/elsewhere/);
    const loop = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/loop')`, [`${up.base}/*`]);
    assert.equal(codeOf(loop), 'HTTP.REDIRECTS');
  });

  it('caps bodies at VEER_HTTP_MAX_BYTES and time at timeoutMs', async () => {
    const big = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/big')`, [`${up.base}/*`]);
    assert.equal(codeOf(big), 'HTTP.TOO_LARGE');
    assert.match(big.error.message, /larger than 1024 bytes \(VEER_HTTP_MAX_BYTES\)/);
    const slow = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/slow', { timeoutMs: 200 })`, [`${up.base}/*`]);
    assert.equal(codeOf(slow), 'HTTP.UNAVAILABLE');
    assert.match(slow.error.message, /timed out after 200 ms/);
  });

  it('sends a JSON body with its content type, and refuses hop-by-hop headers and a body on GET', async () => {
    const r = await run(`export default async (ctx) => (await ctx.http.fetch('${up.base}/echo', { method: 'POST', body: { hello: 'world' } })).json()`, [
      `${up.base}/*`,
    ]);
    assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
    assert.deepEqual(r.result, { got: '{"hello":"world"}' });
    assert.equal(up.seen.at(-1)?.headers['content-type'], 'application/json');
    const host = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/echo', { method: 'POST', headers: { Host: 'x' } })`, [`${up.base}/*`]);
    assert.match(host.error.message, /options\.headers\.Host is set by Veer/);
    const get = await run(`export default async (ctx) => ctx.http.fetch('${up.base}/echo', { body: 'x' })`, [`${up.base}/*`]);
    assert.match(get.error.message, /options\.body is not allowed with GET/);
    const creds = await run(`export default async (ctx) => ctx.http.fetch('http://u:p@127.0.0.1:9/')`, ['http://*']);
    assert.match(creds.error.message, /must not carry user:password@/);
  });

  it('refuses cloud metadata and link-local addresses even under a wildcard', async () => {
    const r = await run(`export default async (ctx) => ctx.http.fetch('http://169.254.169.254/latest/meta-data/')`, ['http://*']);
    assert.equal(codeOf(r), 'PERMISSION');
    assert.match(r.error.message, /a cloud metadata address/);
    const g = await run(`export default async (ctx) => ctx.http.fetch('http://metadata.google.internal/computeMetadata/v1/')`, ['http://*']);
    assert.match(g.error.message, /a cloud metadata host/);
  });

  it('counts requests against VEER_BUDGET_HTTP_REQUESTS, redirects included', async () => {
    const r = await run(`export default async (ctx) => { for (let i = 0; i < 4; i++) await ctx.http.fetch('${up.base}/hello'); return 'no' }`, [
      `${up.base}/*`,
    ]);
    assert.equal(r.status, 'failed');
    assert.equal(codeOf(r), 'BUDGET.HTTP_REQUESTS');
    const redirected = await run(
      `export default async (ctx) => { await ctx.http.fetch('${up.base}/redirect-ok'); await ctx.http.fetch('${up.base}/redirect-ok'); }`,
      [`${up.base}/*`],
    );
    assert.equal(codeOf(redirected), 'BUDGET.HTTP_REQUESTS', 'two requests and two redirects are four');
  });

  it('in a dry run sends GET and HEAD, and records other methods as effects without sending them', async () => {
    await wf.put('rehearse', {
      script: `export default async (ctx) => {
        const read = await ctx.http.fetch('${up.base}/hello');
        const post = await ctx.http.fetch('${up.base}/hooks/deploy?sig=xyz', { method: 'POST', body: { text: 'deploying' } });
        return { read: read.status, post: post.status, dry: post.headers['x-veer-dry-run'] };
      }`,
      permissions: { http: [`${up.base}/*`] },
    });
    const before = up.seen.length;
    const queued = await t.call('POST', '/api/v1/workflows/rehearse/runs', { dryRun: true });
    const r = await wf.finished(queued.body.id);
    assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
    assert.deepEqual(r.result.value, { read: 200, post: 202, dry: 'not sent' });
    assert.deepEqual(r.result.effects, [
      { capability: 'http.fetch', target: `${up.base}/hooks/deploy?…`, before: null, after: { method: 'POST', body: '{"text":"deploying"}' } },
    ]);
    assert.deepEqual(
      up.seen.slice(before).map((s) => `${s.method} ${s.url}`),
      ['GET /hello'],
      'only the GET reached the server',
    );
  });
});

describe('egress rules', () => {
  it('match whole URLs with * only', () => {
    assert.ok(urlPatternMatches('https://hooks.slack.com/services/*', 'https://hooks.slack.com/services/T0/B0/x'));
    assert.ok(!urlPatternMatches('https://hooks.slack.com/services/*', 'https://hooks.slack.com.evil.example/services/x'));
    assert.ok(!urlPatternMatches('http://x/api?q=1', 'http://x/apiXq=1'), '? is a character, not a wildcard');
    assert.ok(urlPatternMatches('http://*/metrics', 'http://10.0.0.1:9100/metrics'));
    assert.ok(!urlPatternMatches('http://*/metrics', 'http://10.0.0.1:9100/metrics/extra'));
  });

  it('refuse a name that resolves to a link-local address, unless a pattern names that host', async () => {
    const resolve = async () => ['169.254.10.20'];
    await assert.rejects(assertEgressAllowed(new URL('http://rebind.example/x'), undefined, resolve), /rebind\.example resolves to 169\.254\.10\.20/);
    await assertEgressAllowed(new URL('http://rebind.example/x'), 'rebind.example', resolve);
    await assert.rejects(assertEgressAllowed(new URL('http://[fe80::1]/'), undefined, resolve), /link-local/);
    await assert.rejects(assertEgressAllowed(new URL('http://[::ffff:169.254.169.254]/'), undefined, resolve), /metadata/);
    await assertEgressAllowed(new URL('http://127.0.0.1:9/'), undefined, resolve);
  });
});
