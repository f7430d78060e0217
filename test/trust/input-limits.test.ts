import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/** The input-size smalls of the trust issue (class 11): deep JSON run inputs, chunked oversized bodies. */
describe('input limits', () => {
  let t: TestSystem;
  let server: ServerType;
  let base: string;
  before(async () => {
    t = await startTestSystem({ engine: false });
    assert.equal((await t.call('PUT', '/api/v1/workflows/echo', { script: 'export default async (ctx) => ctx.input;' })).status, 200);
    server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.stop();
  });

  const nested = (depth: number, open: string, close: string) => `{"input":${open.repeat(depth)}1${close.repeat(depth)}}`;
  const postRaw = (body: string) => t.app.request('/api/v1/workflows/echo/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('a run input nested 10k deep is a 400 naming `input` and the depth limit, not a 500', async () => {
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
    ]) {
      const res = await postRaw(nested(10_000, open, close));
      const body = (await res.json()) as any;
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.code, 'VALIDATION');
      assert.equal(body.details.issues[0].path, 'input');
      assert.match(body.details.issues[0].message, /64 levels/);
    }
  });

  it('inputs up to the depth limit still start runs', async () => {
    const ok = await postRaw(nested(64, '[', ']'));
    assert.equal(ok.status, 201, await ok.text());
    const over = await postRaw(nested(65, '[', ']'));
    assert.equal(over.status, 400);
  });

  /** A chunked (no Content-Length) upload of `mib` MiB, paced like a slow client. */
  const chunkedUpload = (mib: number) => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 2));
        if (sent >= mib * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    return fetch(`${base}/api/v1/workflows/echo/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
  };

  it('a chunked body over 2 MiB is a 413 PAYLOAD_TOO_LARGE, every time, and the client carries on', async () => {
    // Before, the 413 left the connection open mid-body; the client reused it and the next
    // request died in a reset ("other side closed").
    for (let i = 0; i < 4; i++) {
      const res = await chunkedUpload(i % 2 ? 3 : 8);
      assert.equal(res.status, 413, `upload ${i}`);
      assert.equal(((await res.json()) as any).code, 'PAYLOAD_TOO_LARGE');
    }
    const after = await fetch(`${base}/api/v1/workflows/echo/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":1}' });
    assert.equal(after.status, 201);
  });

  it('a client that sends its whole chunked body before reading gets the 413, not a broken pipe', async () => {
    // Many clients (Python's http.client, requests) read the answer only after sending; the
    // server used to close on them mid-body, and they saw a reset instead of the 413.
    const { port } = new URL(base);
    const data = Buffer.alloc(20 * 1024 * 1024, 0x20);
    const head = `POST /api/v1/workflows/echo/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${data.length.toString(16)}\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', reject);
      socket.write(head);
      socket.write(data);
      socket.write('\r\n0\r\n\r\n', (err) => {
        if (err) return reject(err);
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (d) => (text += d));
        socket.on('end', () => resolve(text));
        socket.resume();
      });
      socket.pause();
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /PAYLOAD_TOO_LARGE/);
  });
});
