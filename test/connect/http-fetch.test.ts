import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createHttpCapability } from '../../engine/connect/http-fetch.ts';
import type { RunScope } from '../../engine/sandbox/capabilities.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Answers for the cases http-egress.test.ts leaves out: method-changing redirects, a body that stalls, several cookies. */
async function startUpstream(): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const held: Array<() => void> = [];
  let port = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const path = req.url!.split('?')[0];
      if (path === '/see-other') return res.writeHead(303, { location: '/landed' }).end();
      if (path === '/temporary') return res.writeHead(307, { location: '/landed' }).end();
      // Same server, another origin: the name instead of the address.
      if (path === '/to-other-origin') return res.writeHead(302, { location: `http://localhost:${port}/landed` }).end();
      if (path === '/cookies')
        return res
          .writeHead(200, [
            ['set-cookie', 'a=1'],
            ['set-cookie', 'b=2'],
          ])
          .end('ok');
      if (path === '/stall') {
        // Headers and the first bytes arrive, the rest never does.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part');
        return void held.push(() => res.end());
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${path}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const release of held) release();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function scopeFor(http: string[]): { scope: RunScope; logs: string[] } {
  const logs: string[] = [];
  const scope: RunScope = {
    runId: 'run-1',
    attempt: 1,
    workflow: { name: 'caller', version: 1, permissions: { gateways: [], deployments: {}, http } },
    log: (level, message) => void logs.push(`${level} ${message}`),
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
  };
  return { scope, logs };
}

const codeOf = (err: unknown) => (err as { code?: string }).code;

describe('ctx.http.fetch, the cases around the edges', () => {
  let up: Awaited<ReturnType<typeof startUpstream>>;
  let base: string;
  const cap = createHttpCapability({ maxBytes: 1024 * 1024, maxRedirects: 5 });
  before(async () => {
    up = await startUpstream();
    base = `http://127.0.0.1:${up.port}`;
  });
  after(() => up.close());

  it('turns a POST into a GET without its body on 303, and keeps method and body on 307', async () => {
    const { scope } = scopeFor([`${base}/*`]);
    const other = (await cap.fetch(scope, `${base}/see-other`, { method: 'POST', body: { a: 1 } })) as { text: string; url: string };
    assert.equal(other.text, 'GET /landed');
    assert.equal(other.url, `${base}/landed`);
    const landed = up.seen.at(-1)!;
    assert.equal(landed.body, '');
    assert.equal(landed.headers['content-type'], undefined, 'no content type for a body that is no longer sent');

    const kept = (await cap.fetch(scope, `${base}/temporary`, { method: 'POST', body: { a: 1 } })) as { text: string };
    assert.equal(kept.text, 'POST /landed');
    assert.equal(up.seen.at(-1)!.body, '{"a":1}');
  });

  it('does not hand the Authorization header to another origin on a redirect', async () => {
    const { scope } = scopeFor([`${base}/*`, `http://localhost:${up.port}/*`]);
    await cap.fetch(scope, `${base}/to-other-origin`, { headers: { Authorization: 'Bearer t0ken', 'X-Trace': 'kept' } });
    const [first, second] = up.seen.slice(-2);
    assert.equal(first.headers.authorization, 'Bearer t0ken');
    assert.equal(second.headers.authorization, undefined);
    assert.equal(second.headers['x-trace'], 'kept');
  });

  it('fails HTTP.UNAVAILABLE when the body stalls past timeoutMs, not only the headers', async () => {
    const { scope, logs } = scopeFor([`${base}/*`]);
    await assert.rejects(cap.fetch(scope, `${base}/stall?token=abc`, { timeoutMs: 300 }), (err) => {
      assert.equal(codeOf(err), 'HTTP.UNAVAILABLE', String(err));
      assert.match((err as Error).message, /\/stall/);
      assert.ok(!(err as Error).message.includes('abc'), 'no query string in the message');
      return true;
    });
    assert.ok(
      logs.some((l) => l.startsWith('warn ') && l.includes('/stall')),
      logs.join('\n'),
    );
  });

  it('refuses header values with line breaks as VALIDATION naming the header, sending nothing', async () => {
    const { scope } = scopeFor([`${base}/*`]);
    const before = up.seen.length;
    await assert.rejects(cap.fetch(scope, `${base}/plain`, { headers: { 'x-evil': 'a\r\nx-injected: 1' } }), (err) => {
      assert.equal(codeOf(err), 'VALIDATION', String(err));
      assert.match((err as Error).message, /x-evil/);
      return true;
    });
    assert.equal(up.seen.length, before);
  });

  it('keeps every Set-Cookie of an answer', async () => {
    const { scope } = scopeFor([`${base}/*`]);
    const r = (await cap.fetch(scope, `${base}/cookies`)) as { headers: Record<string, string> };
    assert.match(r.headers['set-cookie'] ?? '', /a=1.*b=2/);
  });

  it('lets a literal pattern name a restricted host even when a wildcard pattern comes first', async () => {
    // The resolver says localhost is link-local; fetch itself still connects to the loopback server.
    const linkLocal = createHttpCapability({ maxBytes: 1024, maxRedirects: 0, resolve: async () => ['169.254.7.7'] });
    const url = `http://localhost:${up.port}/plain`;
    const literalOnly = scopeFor([`http://localhost:${up.port}/*`]).scope;
    assert.equal(((await linkLocal.fetch(literalOnly, url)) as { status: number }).status, 200);
    const wildcard = scopeFor(['http://*/*']).scope;
    await assert.rejects(linkLocal.fetch(wildcard, url), (err) => codeOf(err) === 'PERMISSION' && /link-local/.test((err as Error).message));
    const both = scopeFor(['http://*/*', `http://localhost:${up.port}/*`]).scope;
    assert.equal(((await linkLocal.fetch(both, url)) as { status: number }).status, 200, 'the literal pattern names the host');
  });
});
