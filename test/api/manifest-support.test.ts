import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * What the `veer` CLI's manifests need from the API: labels and annotations on every
 * applyable object, and `?dryRun=true` on their PUTs (every check, nothing written, an
 * outcome of created / updated / unchanged).
 */

const A = '/api/v1';
const labels = { app: 'shop', 'veer.io/tier': 'edge', empty: '' };
const annotations = { 'veer.io/source': 'manifests/shop.yaml#2', note: 'any text: spaces, ünïcode, {json}' };

interface Kind {
  kind: string;
  path: string;
  /** A valid body, and the same object edited; `slot` tells apart objects of one test (gateways need ports of their own). */
  body(slot: number): Record<string, unknown>;
  edited(slot: number): Record<string, unknown>;
}

const KINDS: Kind[] = [
  {
    kind: 'workflow',
    path: `${A}/workflows/mf-wf`,
    body: () => ({ script: 'export default async () => 1', env: { A: '1' } }),
    edited: () => ({ script: 'export default async () => 2', env: { A: '1' } }),
  },
  {
    kind: 'gateway',
    path: `${A}/gateways/mf-gw`,
    body: (slot) => ({ port: 18_440 + slot, routes: { v1: { targets: [{ host: '127.0.0.1', port: 9001 }] } } }),
    edited: (slot) => ({ port: 18_440 + slot, routes: { v1: { targets: [{ host: '127.0.0.1', port: 9002 }] } } }),
  },
  {
    kind: 'deployment',
    path: `${A}/deployments/mf-dep`,
    body: () => ({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], instances: 0 }),
    edited: () => ({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], instances: 0, env: { X: '1' } }),
  },
  {
    kind: 'notifier',
    path: `${A}/notifiers/mf-nt`,
    body: () => ({ url: 'http://127.0.0.1:9/hook', events: { tags: ['alerts'] }, secret: 'a-signing-secret-0001' }),
    edited: () => ({ url: 'http://127.0.0.1:9/hook', events: { tags: ['alerts'] }, secret: 'a-signing-secret-0002' }),
  },
  {
    kind: 'secret',
    path: `${A}/secrets/mf-sc`,
    body: () => ({ value: 's3cr3t-one' }),
    edited: () => ({ value: 's3cr3t-two' }),
  },
];

const KEY_NOISE = ['version', 'createdAt', 'updatedAt', 'revision', 'readyInstances', 'status', 'endpoints'];
/** An object without the fields the server sets, to compare a dry run's `object` with the GET after the write. */
const specPart = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !KEY_NOISE.includes(k)));

describe('manifest support: labels, annotations and dry-run PUTs', () => {
  let t: TestSystem;
  before(async () => {
    // engine: false: deployments are only defined (no supervisor starts processes), secrets need a key.
    t = await startTestSystem({ engine: false, env: { VEER_SCHEDULER: 'local', VEER_SECRETS_KEY: randomBytes(32).toString('hex') } });
  });
  after(() => t.stop());

  for (const k of KINDS) {
    it(`${k.kind}: labels and annotations round-trip through PUT, GET and list, and default to {}`, async () => {
      const path = `${k.path}-meta`;
      const put = await t.call('PUT', path, { ...k.body(1), labels, annotations });
      assert.ok(put.status < 300, JSON.stringify(put.body));
      const got = await t.call('GET', path);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.labels, labels);
      assert.deepEqual(got.body.annotations, annotations);
      if (k.kind === 'secret') assert.equal(JSON.stringify(got.body).includes('s3cr3t'), false, 'never the value');

      const list = await t.call('GET', path.slice(0, path.lastIndexOf('/')));
      const listed = (Object.values(list.body).find(Array.isArray) as Array<{ name: string }>).find((o) => o.name === path.slice(path.lastIndexOf('/') + 1));
      assert.deepEqual((listed as Record<string, unknown> | undefined)?.labels, labels);
      assert.deepEqual((listed as Record<string, unknown> | undefined)?.annotations, annotations);

      const plain = `${k.path}-plain`;
      assert.ok((await t.call('PUT', plain, k.body(2))).status < 300);
      const bare = await t.call('GET', plain);
      assert.deepEqual([bare.body.labels, bare.body.annotations], [{}, {}]);
    });

    it(`${k.kind}: an invalid label key or an oversized annotation is a 400 naming the field`, async () => {
      const bad = await t.call('PUT', `${k.path}-bad`, { ...k.body(3), labels: { 'Bad Key!': 'x', ok: 'not ok!' } });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(bad.body.code, 'VALIDATION');
      const paths = bad.body.details.issues.map((i: { path: string }) => i.path);
      assert.ok(paths.includes('labels.Bad Key!'), JSON.stringify(paths));
      assert.ok(paths.includes('labels.ok'), JSON.stringify(paths));

      const big = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'x'.repeat(4000)]));
      const tooBig = await t.call('PUT', `${k.path}-bad?dryRun=true`, { ...k.body(3), annotations: big });
      assert.equal(tooBig.status, 400);
      assert.ok(
        tooBig.body.details.issues.some((i: { path: string }) => i.path === 'annotations'),
        JSON.stringify(tooBig.body),
      );
      assert.equal((await t.call('GET', `${k.path}-bad`)).status, 404);
    });

    it(`${k.kind}: a dry run says created, then unchanged after the real PUT, then updated after an edit, and writes nothing`, async () => {
      const body = { ...k.body(4), labels };
      const first = await t.call('PUT', `${k.path}?dryRun=true`, body);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.outcome, 'created');
      assert.deepEqual(first.body.object.labels, labels);
      assert.equal((await t.call('GET', k.path)).status, 404, 'nothing stored');

      const real = await t.call('PUT', k.path, body);
      assert.ok(real.status < 300, JSON.stringify(real.body));
      const stored = (await t.call('GET', k.path)).body;
      assert.deepEqual(specPart(first.body.object), specPart(stored), 'the dry run showed what GET answers after the write');
      const versionsBefore = k.kind === 'workflow' ? (await t.call('GET', `${k.path}/versions`)).body.versions.length : 0;

      const same = await t.call('PUT', `${k.path}?dryRun=true`, body);
      assert.equal(same.status, 200);
      assert.equal(same.body.outcome, 'unchanged', JSON.stringify(same.body));
      assert.deepEqual(same.body.object, stored, 'unchanged: the object as stored');

      for (const edit of [k.edited(4), { ...body, labels: { ...labels, app: 'other' } }, { ...body, annotations: { note: 'moved' } }]) {
        const changed = await t.call('PUT', `${k.path}?dryRun=true`, { labels, ...edit });
        assert.equal(changed.status, 200);
        assert.equal(changed.body.outcome, 'updated', JSON.stringify(edit));
      }
      assert.deepEqual((await t.call('GET', k.path)).body, stored, 'the edits were not stored');
      if (k.kind === 'workflow') assert.equal((await t.call('GET', `${k.path}/versions`)).body.versions.length, versionsBefore, 'no new version');
    });
  }

  it('notifier: a dry run without `secret` keeps the stored one, so it compares unchanged', async () => {
    const [nt] = KINDS.filter((k) => k.kind === 'notifier');
    await t.call('PUT', `${nt.path}-keep`, nt.body(0));
    const { secret: _secret, ...withoutSecret } = nt.body(0);
    const res = await t.call('PUT', `${nt.path}-keep?dryRun=true`, withoutSecret);
    assert.equal(res.body.outcome, 'unchanged');
    assert.equal(res.body.object.hasSecret, true);
    assert.equal((await t.call('PUT', `${nt.path}-keep?dryRun=true`, { ...withoutSecret, secret: null })).body.outcome, 'updated');
  });

  it('workflow: a real PUT of an unchanged spec still stores a new version', async () => {
    const path = `${A}/workflows/mf-again`;
    const body = { script: 'export default async () => 1', labels };
    assert.equal((await t.call('PUT', path, body)).body.version, 1);
    assert.equal((await t.call('PUT', `${path}?dryRun=true`, body)).body.outcome, 'unchanged');
    assert.equal((await t.call('PUT', path, body)).body.version, 2);
  });

  it('workflow: a dry run of a script with a syntax error is the same 400 as a real PUT, with line and column', async () => {
    const body = { script: 'export default async () => {\n  return 1 +;\n}' };
    const dry = await t.call('PUT', `${A}/workflows/mf-broken?dryRun=true`, body);
    const real = await t.call('PUT', `${A}/workflows/mf-broken`, body);
    assert.equal(dry.status, 400);
    assert.equal(dry.body.code, 'VALIDATION');
    assert.deepEqual(dry.body.details, real.body.details);
    const issue = dry.body.details.issues.find((i: { path: string }) => i.path === 'script');
    assert.equal(issue?.line, 2, JSON.stringify(dry.body));
    assert.equal(typeof issue?.column, 'number');
  });

  it('gateway: a dry run makes the same checks as the PUT (a port taken by another gateway is 409)', async () => {
    const route = { v1: { targets: [{ host: '127.0.0.1', port: 9001 }] } };
    assert.equal((await t.call('PUT', `${A}/gateways/mf-port-a`, { port: 18_432, routes: route })).status, 201);
    const clash = await t.call('PUT', `${A}/gateways/mf-port-b?dryRun=true`, { port: 18_432, routes: route });
    assert.equal(clash.status, 409, JSON.stringify(clash.body));
  });

  it('the OpenAPI document types the dry-run query and answer of each PUT', async () => {
    const doc = (await t.call('GET', `${A}/openapi.json`)).body;
    for (const [path, component] of [
      ['/api/v1/workflows/{name}', 'WorkflowDryRun'],
      ['/api/v1/gateways/{name}', 'GatewayDryRun'],
      ['/api/v1/deployments/{name}', 'DeploymentDryRun'],
      ['/api/v1/notifiers/{name}', 'NotifierDryRun'],
      ['/api/v1/secrets/{name}', 'SecretDryRun'],
    ]) {
      const put = doc.paths[path]?.put;
      assert.ok(
        put?.parameters?.some((p: { name: string; in: string }) => p.name === 'dryRun' && p.in === 'query'),
        `${path} documents ?dryRun`,
      );
      assert.match(JSON.stringify(put.responses['200']), new RegExp(`#/components/schemas/${component}`), path);
      assert.deepEqual(doc.components.schemas[component].properties.outcome.enum, ['created', 'updated', 'unchanged']);
    }
  });
});
