import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { createApp } from '../../api/app.ts';
import { statusForError } from '../../api/error-handler.ts';
import { createRouter } from '../../api/validation.ts';
import { ERROR_CATALOGUE, areaCode, catalogueEntry, isErrorCode, type ErrorCode } from '../../engine/shared/error-catalogue.ts';
import { UnavailableError, VeerError, fromErrorData } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_DIRS = ['engine', 'adapters', 'api', 'boot', 'workflows', 'deploy'];

function sourceFiles(): string[] {
  const out: string[] = [];
  for (const dir of SOURCE_DIRS) {
    let entries: string[];
    try {
      entries = readdirSync(join(ROOT, dir), { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const e of entries) if (e.endsWith('.ts')) out.push(join(ROOT, dir, e));
  }
  return out;
}

/** Code lines only: comments may name codes as examples (`X.NOT_FOUND`). */
function codeLines(file: string): Array<{ line: string; at: string }> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => ({ line: line.replace(/\s\/\/ .*$/, ''), at: `${relative(ROOT, file)}:${i + 1}` }))
    .filter(({ line }) => !/^\s*(\*|\/\/|\/\*)/.test(line));
}

describe('error catalogue', () => {
  it('lists every code the tree raises', () => {
    const missing: string[] = [];
    const dynamic: string[] = [];
    for (const file of sourceFiles()) {
      for (const { line, at } of codeLines(file)) {
        // Dotted codes anywhere in code (`'KV.CONFLICT'`, `{ code: 'SANDBOX.TIMEOUT' }`, comparisons).
        for (const m of line.matchAll(/['"`]([A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*)['"`]/g)) if (!isErrorCode(m[1])) missing.push(`${at}: ${m[1]}`);
        // Plain codes where a code is given: new XxxError('CODE', …) and `code: 'CODE'`.
        for (const m of line.matchAll(/(?:Error\(\s*|\bcode:\s*)['"`]([A-Z][A-Z0-9_]+)['"`]/g)) if (!isErrorCode(m[1])) missing.push(`${at}: ${m[1]}`);
        // Codes assembled from strings escape the type check: they must go through areaCode().
        if (/(?:VeerError|UnavailableError)\(\s*`[^`]*\$\{/.test(line)) dynamic.push(at);
      }
    }
    assert.deepEqual(missing, [], 'codes not in engine/shared/error-catalogue.ts');
    assert.deepEqual(dynamic, [], 'codes built with a template literal; use areaCode(area, kind)');
  });

  it('gives every code an HTTP status and a log level', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.ok(entry.status >= 400 && entry.status <= 599, `${code}: status ${entry.status}`);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(entry.level), `${code}: level ${entry.level}`);
      assert.ok(entry.meaning.length > 0, `${code}: meaning`);
    }
  });

  it('maps the codes the API answers with as before', () => {
    const expected: Array<[ErrorCode, number]> = [
      ['VALIDATION', 400],
      ['UNAUTHORIZED', 401],
      ['PERMISSION', 403],
      ['NOT_FOUND', 404],
      ['CONFLICT', 409],
      ['PAYLOAD_TOO_LARGE', 413],
      ['INTERNAL', 500],
      ['REDIS.UNAVAILABLE', 503],
      ['KV.UNAVAILABLE', 503],
      ['KV.CONFLICT', 409],
      ['KV.INVALID', 400],
      ['EVENTS.INVALID', 400],
      ['EVENTS.UNAVAILABLE', 503],
      ['METRICS.INVALID', 400],
      ['METRICS.UNAVAILABLE', 503],
      ['SCHEDULER.NOT_FOUND', 404],
      ['SCHEDULER.FORBIDDEN', 403],
      ['SCHEDULER.CONFLICT', 409],
      ['SCHEDULER.INVALID', 400],
      ['SCHEDULER.UNAVAILABLE', 503],
      ['SCHEDULER.TIMEOUT', 503],
      ['GATEWAY.INVALID', 400],
      ['GATEWAY.HAPROXY_UNAVAILABLE', 503],
    ];
    for (const [code, status] of expected) assert.equal(statusForError(new VeerError(code, 'x')), status, code);
    assert.equal(statusForError(new UnavailableError('REDIS.UNAVAILABLE', 'down')), 503);
  });

  it('classifies codes from elsewhere by their kind', () => {
    const from = (code: string, retryable?: boolean) => fromErrorData({ name: 'Error', code, message: 'm', retryable });
    assert.equal(statusForError(from('NEWSTORE.NOT_FOUND')), 404);
    assert.equal(statusForError(from('NEWSTORE.UNAVAILABLE')), 503);
    assert.equal(statusForError(from('NEWSTORE.INVALID')), 400);
    assert.equal(statusForError(from('SOMETHING', true)), 503);
    assert.equal(statusForError(from('SOMETHING')), 500);
    assert.equal(catalogueEntry('SOMETHING').level, 'error');
  });

  it('builds family codes only from catalogued parts', () => {
    const area: 'EVENTS' | 'METRICS' = Math.random() < 2 ? 'EVENTS' : 'METRICS';
    const code: ErrorCode = areaCode(area, 'INVALID');
    assert.equal(code, 'EVENTS.INVALID');
    assert.throws(() => areaCode('KV' as 'EVENTS', 'TIMEOUT' as 'INVALID'), /not in the catalogue/);
    assert.throws(() => areaCode('GATEWAY' as 'KV', 'COMPACTED'), /not in the catalogue/);
  });

  it('answers every error through one body with the request id, at the catalogued status', async () => {
    const r = createRouter();
    r.get('/down', () => {
      throw new UnavailableError('KV.UNAVAILABLE', 'etcd is down', { details: { store: 'etcd' } });
    });
    r.get('/boom', () => {
      throw new Error('secret internals');
    });
    const app = createApp({ logger: silentLogger(), tokens: [], routers: [r], maxBodyBytes: 10 });
    const read = async (path: string, init?: RequestInit) => {
      const res = await app.request(path, { headers: { 'x-request-id': 'req-1' }, ...init });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    assert.deepEqual(await read('/api/v1/down'), {
      status: 503,
      body: { code: 'KV.UNAVAILABLE', message: 'etcd is down', details: { store: 'etcd' }, requestId: 'req-1' },
    });
    const boom = await read('/api/v1/boom');
    assert.equal(boom.status, 500);
    assert.deepEqual(Object.keys(boom.body).sort(), ['code', 'message', 'requestId']);
    assert.equal(boom.body.code, 'INTERNAL');
    assert.doesNotMatch(boom.body.message, /secret/);
    const missing = await read('/nowhere');
    assert.deepEqual(missing, { status: 404, body: { code: 'NOT_FOUND', message: 'no route for GET /nowhere', requestId: 'req-1' } });
    const big = await read('/api/v1/down', {
      method: 'POST',
      headers: { 'x-request-id': 'req-1', 'content-type': 'application/json', 'content-length': '30' },
      body: JSON.stringify({ much: 'too long, really' }),
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(big.body.requestId, 'req-1');
  });
});
