import assert from 'node:assert/strict';
import type { TestSystem } from '../helpers/test-system.ts';

/** Uploads `name` with `body` (script, permissions, limits…), asserting the upload was accepted. */
export async function putWorkflow(t: TestSystem, name: string, body: Record<string, unknown>): Promise<void> {
  const res = await t.call('PUT', `/api/v1/workflows/${name}`, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** Starts a manual run and waits for its end through the API; the run record as the API answers it. */
export async function runToEnd(t: TestSystem, name: string, input?: unknown): Promise<any> {
  const res = await t.call('POST', `/api/v1/workflows/${name}/runs?wait=true`, input === undefined ? {} : { input });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** The own property names of the engine's shared prototypes: a pollution shows up as a new name. */
export function prototypeSnapshot(): Record<string, string[]> {
  const names = (o: object) => Object.getOwnPropertyNames(o).sort();
  return {
    'Object.prototype': names(Object.prototype),
    Object: names(Object),
    'Function.prototype': names(Function.prototype),
    'Array.prototype': names(Array.prototype),
    'Object.prototype.toString': names(Object.prototype.toString),
  };
}

/** The API still answers: liveness and a read through Redis. */
export async function assertApiAnswers(t: TestSystem): Promise<void> {
  const health = await t.call('GET', '/healthz');
  assert.equal(health.status, 200, JSON.stringify(health.body));
  const list = await t.call('GET', '/api/v1/workflows');
  assert.equal(list.status, 200, JSON.stringify(list.body));
}
