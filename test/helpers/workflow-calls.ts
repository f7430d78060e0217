import assert from 'node:assert/strict';
import type { TestSystem } from './test-system.ts';
import { waitFor } from './wait-for.ts';

const FINAL = ['succeeded', 'failed', 'timed_out', 'cancelled'];

/**
 * The workflow calls most API tests repeat: define one (asserting it was accepted), run one to
 * its end, wait for a run to end, list its runs. `system` is a getter because suites create their system in `before`.
 */
export function workflowCalls(system: () => Pick<TestSystem, 'call'>) {
  return {
    async put(name: string, spec: Record<string, unknown>): Promise<void> {
      const r = await system().call('PUT', `/api/v1/workflows/${name}`, spec);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    },
    async run(name: string) {
      const r = await system().call('POST', `/api/v1/workflows/${name}/runs?wait=true`, {});
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body;
    },
    /** Runs `name` to its end, asserts it succeeded (the message has the whole run) and returns its result. */
    async result(name: string): Promise<unknown> {
      const run = await this.run(name);
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      return run.result;
    },
    /** Waits (60 s at most) until run `id` has ended, through the API, and returns it. */
    finished(id: string): Promise<any> {
      return waitFor(
        async () => {
          const r = await system().call('GET', `/api/v1/runs/${id}`);
          return FINAL.includes(r.body?.status) && r.body;
        },
        { timeoutMs: 60_000, what: `run ${id} to finish` },
      );
    },
    async runsOf(name: string): Promise<any[]> {
      return (await system().call('GET', `/api/v1/workflows/${name}/runs?limit=100`)).body.runs;
    },
  };
}
