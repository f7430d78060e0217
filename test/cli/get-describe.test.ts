import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCliSystem, type CliSystem } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SCRIPT = `export default async function (ctx) {
  ctx.log.info('hello from the run');
  const runs = ((await ctx.state.get('runs')) ?? 0) + 1;
  await ctx.state.set('runs', runs);
  return { runs };
}`;

describe('veer get, describe and status', () => {
  let s: CliSystem;
  let runIds: string[];

  before(async () => {
    s = await startCliSystem({ env: { VEER_SECRETS_KEY: randomBytes(32).toString('hex') } });
    const put = async (path: string, body: unknown) => {
      const res = await s.t.call('PUT', path, body);
      assert.ok(res.status < 300, `PUT ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    await put('/api/v1/workflows/hello', { script: SCRIPT, trigger: { cron: '0 0 1 1 *' }, labels: { app: 'shop' } });
    await put('/api/v1/workflows/other', { script: 'export default async function () { return 0 }' });
    runIds = [];
    for (let i = 0; i < 2; i++) {
      const res = await s.t.call('POST', '/api/v1/workflows/hello/runs?wait=true', { input: { n: i } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      runIds.push(res.body.id);
    }
    const signal = await s.t.call('POST', '/api/v1/workflows/hello/signals', { name: 'promote', value: { to: 'canary' } });
    assert.equal(signal.status, 201, JSON.stringify(signal.body));
    const [stablePort, canaryPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    await put('/api/v1/gateways/shop', {
      port: gatewayPort,
      labels: { app: 'shop' },
      routes: {
        stable: { weight: 90, targets: [{ host: '127.0.0.1', port: stablePort }] },
        canary: { weight: 10, targets: [{ host: '127.0.0.1', port: canaryPort }] },
      },
    });
    const event = await s.t.call('POST', '/api/v1/events', { tags: ['shop'], type: 'deploy', value: { version: 2 } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    await put('/api/v1/notifiers/ops', { url: 'http://127.0.0.1:9/hook?token=abc123', events: { tags: ['nothing-matches'] }, labels: { team: 'ops' } });
    await put('/api/v1/secrets/db-password', { value: 'hunter2', labels: { team: 'ops' } });
    // A local deployment: one real process answering HTTP on the port the scheduler gives it.
    const web = await s.t.call('PUT', '/api/v1/deployments/web?wait=true', {
      command: process.execPath,
      args: ['-e', "require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')"],
      instances: 1,
      healthCheck: '/',
      labels: { app: 'shop' },
    });
    assert.equal(web.status, 200, JSON.stringify(web.body));
  });
  after(() => s?.stop());

  it('get workflows: a table with trigger, version and last run; -o json is the API data; -l filters by label', async () => {
    const table = await s.veer(['get', 'workflows']);
    assert.equal(table.code, 0, table.stderr);
    for (const col of ['NAME', 'TRIGGER', 'PAUSED', 'VERSION', 'LAST RUN', 'UPDATED']) assert.match(table.stdout, new RegExp(col));
    const hello = table.stdout.split('\n').find((l) => l.startsWith('hello'))!;
    assert.match(hello, /cron 0 0 1 1 \*/);
    assert.match(hello, /succeeded/);
    assert.match(table.stdout, /^other .*manual/m);

    const json = await s.veer(['get', 'wf', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as Array<{ name: string; version: number }>;
    assert.deepEqual(list.map((w) => w.name).sort(), ['hello', 'other']);

    const selected = await s.veer(['get', 'workflows', '-l', 'app=shop', '-o', 'json']);
    assert.deepEqual(
      (JSON.parse(selected.stdout) as Array<{ name: string }>).map((w) => w.name),
      ['hello'],
    );
    const one = await s.veer(['get', 'workflow', 'hello', '-o', 'yaml']);
    assert.match(one.stdout, /^name: hello$/m);
    const row = await s.veer(['get', 'workflow', 'hello']);
    assert.match(row.stdout.split('\n').find((l) => l.startsWith('hello')) ?? '', /succeeded/, row.stdout);
  });

  it('get workflows <missing> exits 3 with the API message on stderr', async () => {
    const r = await s.veer(['get', 'workflows', 'nope']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /NOT_FOUND.*nope/);
    assert.equal(r.stdout, '');
  });

  it('get runs: every workflow newest first, or one workflow, limited', async () => {
    const table = await s.veer(['get', 'runs']);
    assert.equal(table.code, 0, table.stderr);
    for (const col of ['ID', 'WORKFLOW', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION']) assert.match(table.stdout, new RegExp(col));
    for (const id of runIds) assert.match(table.stdout, new RegExp(`${id} +hello +succeeded +manual`));

    const json = await s.veer(['get', 'runs', '--workflow', 'hello', '--limit', '1', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      (JSON.parse(json.stdout) as Array<{ id: string }>).map((r) => r.id),
      [runIds[1]],
    );

    const one = await s.veer(['get', 'run', runIds[0]!, '-o', 'json']);
    assert.equal(JSON.parse(one.stdout).id, runIds[0]);
  });

  it('get gateways shows the routes with their weights', async () => {
    const table = await s.veer(['get', 'gw']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /NAME +PORT +MODE +ROUTES +LIVE/);
    assert.match(table.stdout, /^shop .*stable=90 canary=10/m);
    const json = await s.veer(['get', 'gateways', 'shop', '-o', 'json']);
    const g = JSON.parse(json.stdout) as { name: string; routes: Record<string, { weight: number }> };
    assert.equal(g.routes.canary!.weight, 10);
    const selected = JSON.parse((await s.veer(['get', 'gateways', '-l', 'app=shop', '-o', 'json'])).stdout) as Array<{ name: string }>;
    assert.deepEqual(
      selected.map((x) => x.name),
      ['shop'],
    );
    assert.deepEqual(JSON.parse((await s.veer(['get', 'gateways', '-l', 'app!=shop', '-o', 'json'])).stdout), []);
  });

  it('get events, notifiers, secrets and deployments', async () => {
    const events = await s.veer(['get', 'events', '--tag', 'shop', '--type', 'deploy']);
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, /TIME +TYPE +TAGS/);
    assert.match(events.stdout, /deploy +shop +api +\{"version":2\}/);
    const eventsJson = JSON.parse((await s.veer(['get', 'event', '--tag', 'shop', '-o', 'json'])).stdout) as Array<{ type: string }>;
    assert.deepEqual(
      eventsJson.map((e) => e.type),
      ['deploy'],
    );

    const notifiers = await s.veer(['get', 'notifiers']);
    assert.equal(notifiers.code, 0, notifiers.stderr);
    assert.match(notifiers.stdout, /^ops +http:\/\/127\.0\.0\.1:9\/hook\?token=\*\*\* +json/m);
    assert.doesNotMatch(notifiers.stdout, /abc123/);
    assert.equal((JSON.parse((await s.veer(['get', 'notifier', 'ops', '-o', 'json'])).stdout) as { name: string }).name, 'ops');

    for (const kind of ['notifiers', 'secrets']) {
      const labelled = JSON.parse((await s.veer(['get', kind, '-l', 'team=ops', '-o', 'json'])).stdout) as unknown[];
      assert.equal(labelled.length, 1, kind);
      assert.deepEqual(JSON.parse((await s.veer(['get', kind, '-l', 'team=dev', '-o', 'json'])).stdout), [], kind);
    }

    const secrets = await s.veer(['get', 'secrets']);
    assert.equal(secrets.code, 0, secrets.stderr);
    assert.match(secrets.stdout, /^db-password +1 /m);
    assert.doesNotMatch(secrets.stdout, /hunter2/);
    assert.deepEqual(
      (JSON.parse((await s.veer(['get', 'secret', '-o', 'json'])).stdout) as Array<{ name: string }>).map((x) => x.name),
      ['db-password'],
    );

    const deployments = await s.veer(['get', 'deploy']);
    assert.equal(deployments.code, 0, deployments.stderr);
    assert.match(deployments.stdout, /NAME +READY +STATUS +ENDPOINTS +IMAGE\/COMMAND/);
    assert.match(deployments.stdout, /^web +1\/1 +ready +1 +\S*node/m);
    const selected = JSON.parse((await s.veer(['get', 'deployments', '-l', 'app=shop', '-o', 'json'])).stdout) as Array<{ name: string }>;
    assert.deepEqual(
      selected.map((d) => d.name),
      ['web'],
    );
    const none = await s.veer(['get', 'deployments', '-l', 'app=other']);
    assert.match(none.stdout, /No deployments found matching app=other/);
  });

  it('describe deployment shows its instances and endpoints', async () => {
    const r = await s.veer(['describe', 'deployment', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Instances: +1 ready of 1 desired$/m);
    assert.match(r.stdout, /^Endpoints:\n  NAME +ADDRESS +READY\n  .*127\.0\.0\.1:\d+ +yes$/m);
  });

  it('describe workflow shows its trigger, labels, pending signals, state and last runs', async () => {
    const r = await s.veer(['describe', 'workflow', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Name: +hello$/m);
    assert.match(r.stdout, /^Trigger: +cron 0 0 1 1 \*$/m);
    assert.match(r.stdout, /^Labels:\n  app=shop$/m);
    assert.match(r.stdout, /^Pending signals:\n  NAME +SENT +BY +VALUE\n  promote .*\{"to":"canary"\}$/m);
    assert.match(r.stdout, /^State:\n  runs: 2$/m);
    assert.match(r.stdout, /^Last runs:\n/m);
    for (const id of runIds) assert.match(r.stdout, new RegExp(`  ${id} +hello +succeeded`));

    const json = JSON.parse((await s.veer(['describe', 'wf', 'hello', '-o', 'json'])).stdout) as {
      workflow: { name: string };
      signals: Array<{ name: string }>;
      state: Record<string, unknown>;
      triggers: unknown[];
      runs: Array<{ id: string }>;
    };
    assert.equal(json.workflow.name, 'hello');
    assert.deepEqual(
      json.signals.map((x) => x.name),
      ['promote'],
    );
    assert.deepEqual(json.state, { runs: 2 });
    assert.ok(Array.isArray(json.triggers));
    assert.deepEqual(
      json.runs.map((x) => x.id),
      [runIds[1], runIds[0]],
    );
  });

  it('describe gateway shows routes with weights, agents and a metrics section per route', async () => {
    const r = await s.veer(['describe', 'gateway', 'shop']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Routes:\n  ROUTE +WEIGHT +CONDITION/m);
    assert.match(r.stdout, /^  stable +90% .*127\.0\.0\.1:\d+$/m);
    assert.match(r.stdout, /^  canary +10% /m);
    assert.match(r.stdout, /^Agents:\n/m);
    assert.match(r.stdout, /^Metrics \(last minute\):\n  ROUTE +REQ\/S +REQUESTS +ERROR RATE +P50 +P99\n  stable +0\.00 +0 .*\n  canary /m);

    const json = JSON.parse((await s.veer(['describe', 'gw', 'shop', '-o', 'json'])).stdout) as {
      gateway: { name: string };
      status: { live: boolean; agents: unknown[] };
      metrics: Array<{ route: string; metrics: { requests: number } }>;
    };
    assert.equal(json.gateway.name, 'shop');
    assert.deepEqual(
      json.metrics.map((m) => [m.route, m.metrics.requests]),
      [
        ['stable', 0],
        ['canary', 0],
      ],
    );
  });

  it('describe run shows its status, input, result and last log lines', async () => {
    const r = await s.veer(['describe', 'run', runIds[1]!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Status: +succeeded$/m);
    assert.match(r.stdout, /^Input: +\{"n":1\}$/m);
    assert.match(r.stdout, /^Result: +\{"runs":2\}$/m);
    assert.match(r.stdout, /^Logs \(last 1\):\n  .*INFO +hello from the run$/m);
  });

  it('describe notifier and secret never show a secret', async () => {
    const n = await s.veer(['describe', 'notifier', 'ops']);
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stdout, /^Recent deliveries:\n  <none>$/m);
    assert.doesNotMatch(n.stdout, /abc123/);
    const sec = await s.veer(['describe', 'secret', 'db-password']);
    assert.match(sec.stdout, /^Version: +1$/m);
    assert.doesNotMatch(sec.stdout, /hunter2/);
  });

  it('status names readiness, the engines and where the API URL came from', async () => {
    const r = await s.veer(['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^API: +${s.url.replace(/\./g, '\\.')} \\(from VEER_URL\\)$`, 'm'));
    assert.match(r.stdout, /^Ready: +yes$/m);
    assert.match(r.stdout, /^  redis +yes/m);
    assert.match(r.stdout, /^  engines +yes +1\/1 engines/m);
    const json = JSON.parse((await s.veer(['status', '-o', 'json'])).stdout) as {
      ready: boolean;
      api: { url: string };
      checks: Record<string, { ok: boolean }>;
    };
    assert.equal(json.ready, true);
    assert.equal(json.api.url, s.url);
    assert.equal(json.checks.redis!.ok, true);
  });

  it('an API that does not answer exits 5 naming the URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['status'], ['get', 'workflows']]) {
      const r = await s.veer(['--url', url, ...args]);
      assert.equal(r.code, 5, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`cannot reach the Veer API at ${url.replace(/\./g, '\\.')}`));
    }
  });

  it('get runs --watch prints frames until Ctrl-C, then exits 0', async () => {
    const p = s.spawnVeer(['get', 'runs', '--watch', '--interval', '200ms']);
    // Two frames: the header twice (piped output keeps every frame).
    await waitFor(() => (p.stdout().match(/^ID +WORKFLOW +STATUS/gm) ?? []).length >= 2, { timeoutMs: 20_000, what: 'two frames of get runs --watch' });
    const r = await p.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(runIds[0]!));
  });

  it('usage mistakes exit 2 naming the flag or kind', async () => {
    const kind = await s.veer(['get', 'pods']);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /unknown kind 'pods'/);
    const selector = await s.veer(['get', 'runs', '-l', 'app=shop']);
    assert.equal(selector.code, 2);
    assert.match(selector.stderr, /-l\/--selector: runs have no labels/);
  });

  // Last: it stops the system's only engine.
  it('status exits 1 and says why when Veer is not ready (no engine)', async () => {
    await s.t.engine!.stop();
    const r = await s.veer(['status']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^Ready: +no$/m);
    assert.match(r.stderr, /not ready: engines: no engine is running/);
    const json = await s.veer(['status', '-o', 'json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { ready: boolean }).ready, false);
  });
});
