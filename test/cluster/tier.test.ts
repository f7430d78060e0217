/**
 * The cluster tier: the engine, API, events, KV, store contract and end-to-end suites run
 * again, unchanged, against a real three-master Redis Cluster (with a replica each). The
 * suites' Redis comes from test/helpers/redis-server.ts, which hands out this cluster when
 * CLUSTER_TIER_ENV names its nodes, and every Veer process they start reaches it through
 * VEER_REDIS_CLUSTER_NODES. A suite is one `node --test` child process, so its own output
 * names what failed.
 *
 * Left out, and why: suites that stop or restart their private Redis (api/redis-outage,
 * test/faults/*: a cluster's node loss is test/cluster/cluster-failover.test.ts), and the
 * Elasticsearch-only event suites (they keep only checkpoints in Redis).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.ts';
import { CLUSTER_TIER_ENV } from '../helpers/redis-server.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const files = (dir: string, skip: string[] = []) =>
  readdirSync(`${root}${dir}`)
    .filter((f) => f.endsWith('.test.ts') && !skip.includes(f))
    .map((f) => `test/${dir}/${f}`);

const SUITES: Record<string, string[]> = {
  engine: files('engine'),
  api: files('api', ['redis-outage.test.ts']),
  'events, KV and store contracts': [
    'test/events/capabilities.test.ts',
    'test/events/events-api.test.ts',
    'test/events/remote-sse.test.ts',
    'test/events/trigger-dispatcher.test.ts',
    'test/kv/redis.test.ts',
    'test/contract/kv.redis.test.ts',
    'test/contract/event-store.redis.test.ts',
    'test/contract/metrics-store.redis.test.ts',
    'test/contract/workflow-store.redis.test.ts',
    'test/contract/signal-store.redis.test.ts',
    'test/contract/trigger-history.redis.test.ts',
    'test/contract/run-launcher.redis.test.ts',
    'test/contract/run-queue-release.redis.test.ts',
  ],
  'end to end': files('e2e'),
};

function runSuite(nodes: string, list: string[]): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, [CLUSTER_TIER_ENV]: nodes };
  // The outer runner marks its children; a nested runner that sees the mark reports to it instead of running.
  // One file at a time: the outer suite runs beside it, and two more processes each starting engines and
  // sandbox children starved a sandbox child past VEER_SANDBOX_UNRESPONSIVE_MS on a loaded 2-core machine.
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(
    process.execPath,
    [
      '--no-node-snapshot',
      '--test',
      '--test-concurrency=1',
      '--test-timeout=240000',
      '--import',
      './test/setup/exit-when-done.ts',
      '--test-reporter=spec',
      ...list,
    ],
    {
      cwd: root.replace(/test\/$/, ''),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('the suites against a real Redis Cluster', { timeout: 1_500_000 }, () => {
  let cluster: TestRedisCluster;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  for (const [name, list] of Object.entries(SUITES)) {
    it(`${name} (${list.length} files)`, { timeout: 290_000 }, async (t) => {
      const { code, output } = await runSuite(cluster.nodes, list);
      const summary = output.split('\n').filter((l) => /^ℹ (tests|pass|fail|skipped)/.test(l));
      t.diagnostic(summary.join('; '));
      // On failure the whole report, so the failing test and its cause are in the CI log.
      assert.equal(code, 0, `suite "${name}" failed on the cluster:\n${output}`);
    });
  }
});
