import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp } from '../../api/app.ts';
import { createGatewayRoutes } from '../../api/routes/gateways.ts';
import { createWorkflowRoutes } from '../../api/routes/workflows.ts';
import type { Workflow } from '../../engine/domain/workflow.ts';
import { normalizeEvent } from '../../engine/domain/event.ts';
import { createGatewayService } from '../../engine/gateways/service.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createMemoryKv } from '../gateways/memory-kv.ts';

/** Just enough of a workflow store for the PUT route: validation happens before it is called. */
function memoryWorkflows(): WorkflowStore {
  const stored = new Map<string, Workflow>();
  return {
    async put(name, spec, compiled) {
      const now = new Date().toISOString();
      const wf: Workflow = { ...spec, name, version: (stored.get(name)?.version ?? 0) + 1, compiled, createdAt: now, updatedAt: now };
      stored.set(name, wf);
      return wf;
    },
    async get(name) {
      return stored.get(name);
    },
    async require(name) {
      const wf = stored.get(name);
      if (!wf) throw new NotFoundError('workflow', name);
      return wf;
    },
    async getVersion(name, version) {
      const wf = stored.get(name);
      return wf?.version === version ? wf : undefined;
    },
    async versions(name) {
      const wf = stored.get(name);
      return wf ? [{ version: wf.version, createdAt: wf.createdAt }] : [];
    },
    async list() {
      return [...stored.values()];
    },
    async delete(name) {
      return stored.delete(name);
    },
    deletedAt: async () => undefined,
    async setPaused(name) {
      const wf = stored.get(name);
      if (!wf) throw new NotFoundError('workflow', name);
      return wf;
    },
    subscribe: () => () => undefined,
  };
}

function appWith(routers: Parameters<typeof createApp>[0]['routers']) {
  const app = createApp({ logger: silentLogger(), tokens: [], routers });
  return async (method: string, path: string, body: unknown) => {
    const res = await app.request(`/api/v1${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return {
      status: res.status,
      body: (await res.json()) as { code: string; message: string; details: { issues: Array<{ path: string; message: string; line?: number }> } },
    };
  };
}

const script = 'export default async function () { return 1 }';

describe('400 answers list every issue of a body at once', () => {
  const call = appWith([createWorkflowRoutes({ workflows: memoryWorkflows() })]);
  const paths = (res: Awaited<ReturnType<typeof call>>) => res.body.details.issues.map((i) => i.path).sort();

  it('a bad limits.timeoutMs and a bad cron are both reported', async () => {
    const res = await call('PUT', '/workflows/both', { script, limits: { timeoutMs: 'soon' }, trigger: { cron: 'every minute' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION');
    assert.deepEqual(paths(res), ['limits.timeoutMs', 'trigger.cron']);
    assert.match(res.body.message, /limits\.timeoutMs: .*; trigger\.cron: /);
  });

  it('a script syntax error, a bad timezone and a schema error come back together', async () => {
    const res = await call('PUT', '/workflows/three', {
      script: 'export default async function () {\n  return 1 +;\n}',
      overlap: 'sometimes',
      trigger: { cron: '* * * * *', timezone: 'Mars/Olympus' },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(paths(res), ['overlap', 'script', 'trigger.timezone']);
    assert.equal(res.body.details.issues.find((i) => i.path === 'script')?.line, 2);
  });

  it('a schema-valid body with a bad script and a bad cron reports both', async () => {
    const res = await call('PUT', '/workflows/two', { script: 'export default 1 +;', trigger: { cron: '99 * * * *' } });
    assert.equal(res.status, 400);
    assert.deepEqual(paths(res), ['script', 'trigger.cron']);
  });

  it('a field the schema refused is not checked a second time', async () => {
    const res = await call('PUT', '/workflows/once', { script: '', trigger: { cron: 5 } });
    assert.equal(res.status, 400);
    assert.deepEqual(paths(res), ['script', 'trigger']);
  });

  it('a valid body is stored', async () => {
    const res = await call('PUT', '/workflows/fine', { script, trigger: { cron: '*/5 * * * *' } });
    assert.equal(res.status, 200);
  });
});

describe('a union that matches no option says which shapes it takes', () => {
  it('gateway targets: [{ host, port }] or { deployment, port }', async () => {
    const gateways = createGatewayService({ kv: createMemoryKv(), logger: silentLogger(), emit: async () => undefined });
    const call = appWith([createGatewayRoutes({ gateways })]);
    const res = await call('PUT', '/gateways/shop', { port: 8080, routes: { v1: { targets: [{ deployment: 'shop-v1', port: 'http' }] } } });
    assert.equal(res.status, 400);
    const issue = res.body.details.issues.find((i) => i.path === 'routes.v1.targets');
    assert.ok(issue, JSON.stringify(res.body));
    assert.equal(issue.message, 'Invalid input: expected [{ host, port }] or { deployment, port }');
  });

  it('workflow triggers list each kind, optional fields marked', async () => {
    const call = appWith([createWorkflowRoutes({ workflows: memoryWorkflows() })]);
    const res = await call('PUT', '/workflows/trig', { script, trigger: { every: '5m' } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.details.issues, [
      { path: 'trigger', message: 'Invalid input: expected { cron, timezone?, signals? }, { events, signals? }, { elasticsearch, signals? } or { signals }' },
    ]);
  });

  it('event tags: a string or a list of strings', () => {
    assert.throws(
      () => normalizeEvent({ tags: 5 }),
      (err: { details: { issues: Array<{ path: string; message: string }> }; message: string }) => {
        assert.deepEqual(err.details.issues, [{ path: 'tags', message: 'Invalid input: expected string or [string]' }]);
        assert.match(err.message, /^invalid event: tags: /);
        return true;
      },
    );
  });
});
