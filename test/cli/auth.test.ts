import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCliSystem, type CliSystem } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The CLI against an API with scoped tokens: the token travels on every request (SSE streams
 * included), a missing or too weak one is the API's 401/403 with its message and exit 1, and no
 * output ever carries the token.
 */
const WRITER = 'writer-secret-0123456789';
const VIEWER = 'viewer-secret-0123456789';
const ROOT = 'root-secret-0123456789';

describe('veer with API tokens', () => {
  let s: CliSystem;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-cli-auth-'));
    const file = join(dir, 'tokens');
    await writeFile(file, `writer:write:${WRITER}\nviewer:read:${VIEWER}\nroot:admin:${ROOT}\n`);
    s = await startCliSystem({ env: { VEER_API_TOKENS_FILE: file } });
    const auth = { authorization: `Bearer ${WRITER}` };
    const script =
      "export default async function (ctx) { ctx.log.info('first'); while (!(await ctx.signals.take('go'))) await ctx.sleep(100); ctx.log.info('second'); return 1 }";
    assert.equal((await s.t.call('PUT', '/api/v1/workflows/guarded', { script }, auth)).status, 200);
  });
  after(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a token: the API answers 401 and the CLI says so, exit 1', async () => {
    const r = await s.veer(['get', 'workflows']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /UNAUTHORIZED|401/);
  });

  it('a read token reads, and is refused a change with the scope it lacks (403 FORBIDDEN), never printing the token', async () => {
    const read = await s.veer(['get', 'workflows', '-o', 'json'], { env: { VEER_TOKEN: VIEWER } });
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(
      JSON.parse(read.stdout).map((w: { name: string }) => w.name),
      ['guarded'],
    );
    const refused = await s.veer(['--token', VIEWER, 'pause', 'guarded']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /FORBIDDEN/);
    assert.match(refused.stderr, /write/);
    for (const out of [read.stdout, read.stderr, refused.stdout, refused.stderr]) assert.ok(!out.includes(VIEWER), 'no token in any output');
  });

  it("export skips a local deployment for a token without admin, saying why (its env is an admin's to read)", async () => {
    const web = { command: process.execPath, env: { WEB_DB_PASSWORD: 'db-secret-0123456789' }, instances: 0 };
    assert.equal((await s.t.call('PUT', '/api/v1/deployments/web', web, { authorization: `Bearer ${ROOT}` })).status, 202);
    try {
      const read = await s.veer(['export', '--kind', 'deployment'], { env: { VEER_TOKEN: VIEWER } });
      assert.equal(read.code, 0, read.stderr);
      assert.equal(read.stderr, "deployment/web skipped: reading a local deployment's definition (its env) needs an admin token\n");
      assert.equal(read.stdout.trim(), '');
      const admin = await s.veer(['export', '--kind', 'deployment'], { env: { VEER_TOKEN: ROOT } });
      assert.equal(admin.code, 0, admin.stderr);
      assert.match(admin.stdout, /^name: web$/m);
      assert.match(admin.stdout, /WEB_DB_PASSWORD: db-secret-0123456789/);
      for (const out of [read.stdout, read.stderr, admin.stdout, admin.stderr])
        assert.ok(!out.includes(VIEWER) && !out.includes(ROOT), 'no token in any output');
    } finally {
      await s.t.call('DELETE', '/api/v1/deployments/web', undefined, { authorization: `Bearer ${ROOT}` });
    }
  });

  it('a write token runs and follows the log over SSE (the token on the stream too)', async () => {
    const started = await s.veer(['run', 'guarded', '-o', 'json'], { env: { VEER_TOKEN: WRITER } });
    assert.equal(started.code, 0, started.stderr);
    const id = JSON.parse(started.stdout).id as string;
    const follow = s.spawnVeer(['logs', '-f', id], { env: { VEER_TOKEN: WRITER } });
    await waitFor(() => follow.stdout().includes('first'), { timeoutMs: 60_000, what: 'the first line through the authenticated stream' });
    const sent = await s.veer(['signal', 'guarded', 'go'], { env: { VEER_TOKEN: WRITER } });
    assert.equal(sent.code, 0, sent.stderr);
    const done = await follow.exited;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /second/);
    assert.ok(!done.stdout.includes(WRITER) && !done.stderr.includes(WRITER));
  });
});
