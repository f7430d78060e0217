import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

// Every release control is in the OpenAPI document with the errors a caller must handle:
// 404 unknown workflow, 409 signal to a deleted workflow (or a full inbox), 400 naming the field.
const CONTROLS: Array<[method: string, path: string, statuses: string[]]> = [
  ['post', '/api/v1/workflows/{name}/signals', ['201', '400', '401', '403', '404', '409']],
  ['get', '/api/v1/workflows/{name}/signals', ['200', '404']],
  ['post', '/api/v1/workflows/{name}/pause', ['200', '400', '401', '403', '404']],
  ['post', '/api/v1/workflows/{name}/resume', ['200', '404']],
  ['get', '/api/v1/workflows/{name}/state', ['200', '404']],
  ['put', '/api/v1/workflows/{name}/state/{key}', ['200', '400', '401', '403', '404']],
  ['delete', '/api/v1/workflows/{name}/state/{key}', ['204', '404']],
  ['delete', '/api/v1/workflows/{name}/state', ['200', '404']],
  ['post', '/api/v1/workflows/{name}/runs', ['201', '400', '404', '409']],
];

describe('OpenAPI document of the release controls', () => {
  let t: TestSystem;
  let doc: any;
  before(async () => {
    t = await startTestSystem({ engine: false });
    const res = await t.call('GET', '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    doc = res.body;
  });
  after(() => t.stop());

  it('documents the routes that connect Veer to the stack, errors in the one error body', () => {
    const routes: Array<[string, string]> = [
      ['put', '/api/v1/secrets/{name}'],
      ['get', '/api/v1/secrets/{name}'],
      ['delete', '/api/v1/secrets/{name}'],
      ['get', '/api/v1/secrets'],
      ['put', '/api/v1/notifiers/{name}'],
      ['get', '/api/v1/notifiers/{name}/deliveries'],
      ['post', '/api/v1/webhooks/alertmanager'],
      ['get', '/api/v1/prometheus/targets'],
    ];
    for (const [method, path] of routes) {
      const op = doc.paths?.[path]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
      if (method === 'put' || method === 'post') assert.ok(op.responses?.['400'], `${method.toUpperCase()} ${path} documents 400`);
      for (const [status, response] of Object.entries(op.responses as Record<string, any>))
        if (Number(status) >= 400 && response.content)
          assert.equal(response.content['application/json'].schema.$ref, '#/components/schemas/Error', `${path} ${status}: the one error body`);
    }
  });

  it('lists every control route with its error answers', () => {
    for (const [method, path, statuses] of CONTROLS) {
      const op = doc.paths?.[path]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
      for (const status of statuses) assert.ok(op.responses?.[status], `${method.toUpperCase()} ${path} documents ${status}`);
      for (const [status, response] of Object.entries(op.responses as Record<string, any>))
        if (Number(status) >= 400)
          assert.equal(response.content['application/json'].schema.$ref, '#/components/schemas/Error', `${path} ${status}: the one error body`);
    }
  });

  it('describes the signal body, the pause reason and the dryRun flag', () => {
    const signalBody = doc.paths['/api/v1/workflows/{name}/signals'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(signalBody.required, ['name']);
    assert.ok(signalBody.properties.value);
    const pauseBody = doc.paths['/api/v1/workflows/{name}/pause'].post.requestBody.content['application/json'].schema;
    assert.equal(pauseBody.properties.reason.maxLength, 500);
    const startBody = doc.paths['/api/v1/workflows/{name}/runs'].post.requestBody.content['application/json'].schema;
    assert.equal(startBody.properties.dryRun.type, 'boolean');
  });

  it("documents a run's dryRun and engineId, and the dry-run result with its effects", () => {
    const run = doc.paths['/api/v1/runs/{id}'].get.responses['200'].content['application/json'].schema;
    assert.equal(run.properties.dryRun.type, 'boolean');
    assert.equal(run.properties.engineId.type, 'string');
    const result = doc.components.schemas.DryRunResult;
    assert.ok(result, 'DryRunResult is a named schema');
    assert.deepEqual(Object.keys(result.properties).sort(), ['effects', 'value']);
    const effect = doc.components.schemas.DryRunEffect;
    assert.deepEqual(Object.keys(effect.properties).sort(), ['after', 'before', 'capability', 'target']);
  });
});
