import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startCliSystem, type CliResult, type CliSystem } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * Declarative manifests end to end: the `veer` bin as a process against a real Veer (local
 * scheduler, so Deployment manifests are applied too), a directory of manifests applied,
 * re-applied, edited, diffed, pruned, exported and deleted.
 */
const SCRIPT = `export default async function (ctx) {\n  ctx.log.info('canary step');\n  return 1;\n}\n`;
const ENV = { SHOP_TOKEN: 'tok-123456', SHOP_HOOK_SECRET: 'hook-secret-0123456789' };

const outcomes = (r: CliResult) =>
  Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );

describe('veer apply/diff/delete/export -f manifests', () => {
  let s: CliSystem;
  let shop: string;
  let gatewayPort: number;
  const apply = (...args: string[]) => s.veer(['apply', ...args], { env: ENV });

  before(async () => {
    s = await startCliSystem({ env: { VEER_SECRETS_KEY: randomBytes(32).toString('hex'), VEER_SCHEDULER: 'local' } });
    shop = join(s.dir, 'shop');
    gatewayPort = await freePort();
    await mkdir(shop, { recursive: true });
    await writeFile(join(shop, 'canary.ts'), SCRIPT);
    await writeFile(
      join(shop, 'canary.yaml'),
      [
        'apiVersion: veer.io/v1',
        'kind: Workflow',
        'name: shop-canary',
        'labels: { app: shop }',
        'spec:',
        '  script: canary.ts',
        '  trigger:',
        "    cron: '0 0 1 1 *'",
        '  permissions: { secrets: [shop-token] }',
        '---',
        'kind: Gateway',
        'name: shop',
        'labels: { app: shop }',
        'spec:',
        `  port: ${gatewayPort}`,
        '  routes:',
        '    stable: { weight: 100, targets: [{ host: 127.0.0.1, port: 9001 }] }',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(shop, 'infra.yaml'),
      [
        'kind: Secret',
        'name: shop-token',
        'labels: { app: shop }',
        'spec: { valueFrom: { env: SHOP_TOKEN } }',
        '---',
        'kind: Notifier',
        'name: shop-alerts',
        'labels: { app: shop }',
        'spec:',
        '  url: http://127.0.0.1:9/hook',
        '  events: { tags: [] }',
        '  secret: { valueFrom: { env: SHOP_HOOK_SECRET } }',
        '',
      ].join('\n'),
    );
    // No instances: the definition is applied and compared, no process needs to start.
    await writeFile(
      join(shop, 'deployment.json'),
      JSON.stringify(
        [{ kind: 'Deployment', name: 'shop-v1', labels: { app: 'shop' }, spec: { command: process.execPath, args: ['server.js'], instances: 0 } }],
        null,
        2,
      ),
    );
  });
  after(() => s?.stop());

  it('applies a directory: created for each object, in dependency order; again: all unchanged', async () => {
    const first = await apply('-f', 'shop');
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split('\n'), [
      'secret/shop-token created',
      'notifier/shop-alerts created',
      'deployment/shop-v1 created',
      'gateway/shop created',
      'workflow/shop-canary created',
    ]);
    const wf = await s.t.call('GET', '/api/v1/workflows/shop-canary');
    assert.equal(wf.body.script, SCRIPT);
    assert.deepEqual(wf.body.labels, { app: 'shop' });
    assert.equal(wf.body.annotations['veer.io/source'], 'shop/canary.yaml#1');
    assert.equal((await s.t.call('GET', '/api/v1/gateways/shop')).body.annotations['veer.io/source'], 'shop/canary.yaml#2');
    assert.equal((await s.t.call('GET', '/api/v1/notifiers/shop-alerts')).body.hasSecret, true);

    const again = await apply('-f', 'shop');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(new Set(Object.values(outcomes(again))), new Set(['unchanged']));
    assert.equal(Object.keys(outcomes(again)).length, 5);
    const json = await apply('-f', 'shop', '-o', 'json');
    assert.equal(json.code, 0, json.stderr);
    const results = JSON.parse(json.stdout) as Array<{ kind: string; name: string; outcome: string }>;
    assert.deepEqual(
      results.map((r) => `${r.kind}/${r.name} ${r.outcome}`),
      ['secret/shop-token', 'notifier/shop-alerts', 'deployment/shop-v1', 'gateway/shop', 'workflow/shop-canary'].map((k) => `${k} unchanged`),
    );
    const diff = await s.veer(['diff', '-f', 'shop'], { env: ENV });
    assert.equal(diff.code, 0, diff.stderr + diff.stdout);
  });

  it('an edited script file: diff shows a unified diff of the script (exit 1), apply updates that one object', async () => {
    await writeFile(join(shop, 'canary.ts'), SCRIPT.replace("'canary step'", "'canary step 2'"));
    const diff = await s.veer(['diff', '-f', 'shop'], { env: ENV });
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /^workflow\/shop-canary \(updated\)\n--- a\/shop-canary\.ts\n\+\+\+ b\/shop-canary\.ts\n@@/);
    assert.match(diff.stdout, /^-  ctx\.log\.info\('canary step'\);$/m);
    assert.match(diff.stdout, /^\+  ctx\.log\.info\('canary step 2'\);$/m);
    assert.doesNotMatch(diff.stdout, /gateway\/shop|secret\//);

    const json = await s.veer(['diff', '-f', 'shop', '-o', 'json'], { env: ENV });
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as Array<{ kind: string; name: string; outcome: string; changes: Array<{ path: string }> }>;
    assert.deepEqual(
      parsed.map((d) => [d.kind, d.name, d.outcome, d.changes.map((c) => c.path)]),
      [['Workflow', 'shop-canary', 'updated', ['spec.script']]],
    );

    const applied = await apply('-f', 'shop');
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(outcomes(applied)['workflow/shop-canary'], 'updated');
    assert.deepEqual(
      Object.entries(outcomes(applied)).filter(([, o]) => o !== 'unchanged'),
      [['workflow/shop-canary', 'updated']],
    );
  });

  it('diff shows other fields as - old / + new per field path, and never a secret value', async () => {
    const manifest = join(shop, 'canary.yaml');
    const original = await readFile(manifest, 'utf8');
    try {
      await writeFile(manifest, original.replace('port: 9001', 'port: 9004').replace("cron: '0 0 1 1 *'", "cron: '0 0 2 1 *'"));
      const diff = await s.veer(['diff', '-f', 'shop'], { env: { ...ENV, SHOP_TOKEN: 'tok-changed-987' } });
      assert.equal(diff.code, 1, diff.stderr);
      assert.match(diff.stdout, /^secret\/shop-token \(updated\)\n {2}spec\.valueFrom: value changed$/m);
      assert.doesNotMatch(diff.stdout, /tok-/);
      assert.match(
        diff.stdout,
        /^gateway\/shop \(updated\)\n {2}spec\.routes\.stable\.targets:\n {2}- - host: 127\.0\.0\.1\n {2}- {3}port: 9001\n {2}\+ - host: 127\.0\.0\.1\n {2}\+ {3}port: 9004$/m,
      );
      assert.match(diff.stdout, /^workflow\/shop-canary \(updated\)\n {2}spec\.trigger\.cron:\n {2}- 0 0 1 1 \*\n {2}\+ 0 0 2 1 \*$/m);
    } finally {
      await writeFile(manifest, original);
    }
  });

  it("keeps the weights a release set and the instances a scale set; --reset applies the manifest's", async () => {
    const live = join(s.dir, 'live');
    await mkdir(live, { recursive: true });
    const port = await freePort();
    await writeFile(
      join(live, 'live.yaml'),
      [
        'kind: Gateway',
        'name: live-gw',
        'spec:',
        `  port: ${port}`,
        '  routes:',
        '    stable: { weight: 100, targets: [{ host: 127.0.0.1, port: 9101 }] }',
        '    canary: { weight: 0, targets: [{ host: 127.0.0.1, port: 9102 }] }',
        '---',
        'kind: Deployment',
        'name: live-d',
        'spec:',
        `  command: ${JSON.stringify(process.execPath)}`,
        "  args: ['-e', 'setInterval(() => {}, 1000)']",
        '  instances: 0',
        '',
      ].join('\n'),
    );
    try {
      assert.equal((await apply('-f', 'live')).code, 0);
      const weights = await s.veer(['weights', 'live-gw', 'stable=60', 'canary=40']);
      assert.equal(weights.code, 0, weights.stderr);
      const scaled = await s.veer(['scale', 'live-d', '1']);
      assert.equal(scaled.code, 0, scaled.stderr);

      const again = await apply('-f', 'live');
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(outcomes(again), { 'deployment/live-d': 'unchanged', 'gateway/live-gw': 'unchanged' });
      const gw = (await s.t.call('GET', '/api/v1/gateways/live-gw')).body;
      assert.deepEqual([gw.routes.stable.weight, gw.routes.canary.weight], [60, 40], 'the release keeps its weights');
      assert.equal((await s.t.call('GET', '/api/v1/deployments/live-d')).body.desiredInstances, 1);
      assert.equal((await s.veer(['diff', '-f', 'live'])).code, 0, 'nothing to show either');

      // A new target is still applied, with the live weights kept beside it.
      await writeFile(join(live, 'live.yaml'), (await readFile(join(live, 'live.yaml'), 'utf8')).replace('port: 9102', 'port: 9103'));
      assert.deepEqual(outcomes(await apply('-f', 'live')), { 'deployment/live-d': 'unchanged', 'gateway/live-gw': 'updated' });
      const moved = (await s.t.call('GET', '/api/v1/gateways/live-gw')).body;
      assert.deepEqual([moved.routes.canary.targets[0].port, moved.routes.canary.weight], [9103, 40]);

      const reset = await apply('-f', 'live', '--reset');
      assert.equal(reset.code, 0, reset.stderr);
      assert.deepEqual(outcomes(reset), { 'deployment/live-d': 'updated', 'gateway/live-gw': 'updated' });
      const back = (await s.t.call('GET', '/api/v1/gateways/live-gw')).body;
      assert.deepEqual([back.routes.stable.weight, back.routes.canary.weight], [100, 0]);
      assert.equal((await s.t.call('GET', '/api/v1/deployments/live-d')).body.desiredInstances, 0);
    } finally {
      await s.veer(['delete', '-f', 'live']);
    }
  });

  it('invalid manifests: every error named (file, document, field; script file:line:column), exit 1, nothing applied', async () => {
    const bad = join(s.dir, 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'broken.ts'), 'export default async function (ctx) {\n  const x = ;\n}\n');
    await writeFile(
      join(bad, 'shop.yaml'),
      [
        'kind: Gateway',
        'name: shop',
        'spec:',
        `  port: ${gatewayPort}`,
        '  routes:',
        '    stable: { weight: 100, targets: [{ host: 127.0.0.1, port: 9002 }] }',
        '---',
        'kind: Workflow',
        'name: shop-nightly',
        'spec:',
        '  script: canary.ts',
        '  trigger:',
        "    cron: 'every night'",
        '---',
        'kind: Workflow',
        'name: shop-broken',
        'spec:',
        '  script: broken.ts',
        '---',
        'kind: Workflow',
        'name: shop-inline',
        'spec:',
        '  script: |',
        '    export default async function (ctx) {',
        '      return )',
        '    }',
        '',
      ].join('\n'),
    );
    await writeFile(join(bad, 'canary.ts'), SCRIPT);
    const res = await apply('-f', 'bad');
    assert.equal(res.code, 1, res.stdout);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /nothing was applied/);
    assert.match(res.stderr, /bad\/shop\.yaml \(document 2, line 13\): spec\.trigger\.cron: /);
    assert.match(res.stderr, /bad\/shop\.yaml \(document 3, line 18\): spec\.script: bad\/broken\.ts:2:\d+: /);
    // An inline script's line is mapped into the manifest.
    assert.match(res.stderr, /bad\/shop\.yaml \(document 4, line 25\): spec\.script: script line 2, column \d+: /);
    // The valid first document was not applied either: the gateway still has its old target.
    const gw = await s.t.call('GET', '/api/v1/gateways/shop');
    assert.equal(gw.body.routes.stable.targets[0].port, 9001);
    assert.equal((await s.t.call('GET', '/api/v1/workflows/shop-nightly')).status, 404);
    // diff exits 1 for "something would change": invalid manifests exit above that.
    const diff = await s.veer(['diff', '-f', 'bad'], { env: ENV });
    assert.equal(diff.code, 2, diff.stderr);
    assert.match(diff.stderr, /spec\.trigger\.cron/);
  });

  it('a literal secret value is refused before anything is sent', async () => {
    const dir = join(s.dir, 'literal');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'secret.yaml'), 'kind: Secret\nname: shop-literal\nspec:\n  value: hunter2\n');
    const res = await apply('-f', 'literal');
    assert.equal(res.code, 1);
    assert.match(res.stderr, /literal\/secret\.yaml \(document 1, line 4\): spec\.value: secrets in manifests carry only a reference/);
    assert.doesNotMatch(res.stderr, /hunter2/);
    assert.equal((await s.t.call('GET', '/api/v1/secrets/shop-literal')).status, 404);
  });

  it('--prune -l app=shop deletes what left the files; without -l it is refused (exit 2)', async () => {
    const refused = await apply('-f', 'shop', '--prune');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--prune needs -l/);

    // An object with the label that was not applied by the CLI is never pruned.
    await s.t.call('PUT', '/api/v1/gateways/shop-manual', {
      port: await freePort(),
      routes: { a: { targets: [{ host: '127.0.0.1', port: 9003 }] } },
      labels: { app: 'shop' },
    });
    await rm(join(shop, 'deployment.json'));
    const dry = await apply('-f', 'shop', '--prune', '-l', 'app=shop', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^deployment\/shop-v1 pruned \(dry run\)$/m);
    assert.equal((await s.t.call('GET', '/api/v1/deployments/shop-v1')).status, 200);

    const res = await apply('-f', 'shop', '--prune', '-l', 'app=shop');
    assert.equal(res.code, 0, res.stderr);
    const o = outcomes(res);
    assert.equal(o['deployment/shop-v1'], 'pruned');
    for (const k of ['secret/shop-token', 'notifier/shop-alerts', 'gateway/shop', 'workflow/shop-canary']) assert.equal(o[k], 'unchanged', k);
    assert.equal(o['gateway/shop-manual'], undefined);
    assert.equal((await s.t.call('GET', '/api/v1/deployments/shop-v1')).status, 404);
    assert.equal((await s.t.call('GET', '/api/v1/gateways/shop-manual')).status, 200);
    await s.t.call('DELETE', '/api/v1/gateways/shop-manual');
  });

  it('export (-d and stdout) writes manifests and script files, local deployments whole, that apply round-trips to unchanged', async () => {
    // A local deployment with everything the plain GET does not show (env, healthCheck, cwd), then
    // scaled: the export carries the live count, so apply finds it unchanged with or without --reset.
    const web = join(s.dir, 'shop-web');
    await mkdir(web, { recursive: true });
    await writeFile(
      join(web, 'web.yaml'),
      [
        'kind: Deployment',
        'name: shop-web',
        'labels: { app: shop }',
        'annotations: { team: web }',
        'spec:',
        `  command: ${JSON.stringify(process.execPath)}`,
        "  args: ['-e', 'setInterval(() => {}, 1000)']",
        "  env: { SHOP_DB_URL: 'postgres://shop@127.0.0.1/shop' }",
        '  healthCheck: /healthz',
        `  cwd: ${JSON.stringify(s.dir)}`,
        '  instances: 0',
        '',
      ].join('\n'),
    );
    try {
      assert.equal((await apply('-f', 'shop-web')).code, 0);
      const scaled = await s.veer(['scale', 'shop-web', '1']);
      assert.equal(scaled.code, 0, scaled.stderr);

      const res = await s.veer(['export', '-l', 'app=shop', '-d', 'exported'], { env: ENV });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '', 'nothing skipped');
      assert.match(res.stdout, /^deployment\/shop-web exported to exported\/deployments\/shop-web\.yaml$/m);
      const script = await readFile(join(s.dir, 'exported', 'workflows', 'shop-canary.ts'), 'utf8');
      assert.match(script, /canary step 2/);
      const wf = await readFile(join(s.dir, 'exported', 'workflows', 'shop-canary.yaml'), 'utf8');
      assert.match(wf, /script: shop-canary\.ts/);
      const secret = await readFile(join(s.dir, 'exported', 'secrets', 'shop-token.yaml'), 'utf8');
      assert.match(secret, /env: SHOP_TOKEN/);
      assert.doesNotMatch(secret, /tok-123456/);
      const notifier = await readFile(join(s.dir, 'exported', 'notifiers', 'shop-alerts.yaml'), 'utf8');
      assert.match(notifier, /env: SHOP_ALERTS_NOTIFIER_SECRET/);

      const stdout = await s.veer(['export', '--kind', 'gateway', '-l', 'app=shop']);
      assert.equal(stdout.code, 0, stdout.stderr);
      const docs = parseAllDocuments(stdout.stdout) as Array<{ toJS(): { kind: string; name: string; spec: { port: number } } }>;
      assert.deepEqual(
        docs.map((d) => [d.toJS().kind, d.toJS().name, d.toJS().spec.port]),
        [['Gateway', 'shop', gatewayPort]],
      );

      const deployments = await s.veer(['export', '--kind', 'deployment', '-l', 'app=shop']);
      assert.equal(deployments.code, 0, deployments.stderr);
      const [d, ...more] = parseAllDocuments(deployments.stdout).map((x) => x.toJS());
      assert.equal(more.length, 0);
      assert.deepEqual(d, {
        apiVersion: 'veer.io/v1',
        kind: 'Deployment',
        name: 'shop-web',
        labels: { app: 'shop' },
        annotations: { team: 'web', 'veer.io/source': 'shop-web/web.yaml#1' },
        spec: {
          command: process.execPath,
          args: ['-e', 'setInterval(() => {}, 1000)'],
          env: { SHOP_DB_URL: 'postgres://shop@127.0.0.1/shop' },
          healthCheck: '/healthz',
          cwd: s.dir,
          instances: 1,
        },
      });

      const round = await s.veer(['apply', '-f', 'exported'], { env: { ...ENV, SHOP_ALERTS_NOTIFIER_SECRET: ENV.SHOP_HOOK_SECRET } });
      assert.equal(round.code, 0, round.stderr);
      const o = outcomes(round);
      assert.deepEqual(Object.keys(o).sort(), ['deployment/shop-web', 'gateway/shop', 'notifier/shop-alerts', 'secret/shop-token', 'workflow/shop-canary']);
      assert.deepEqual(new Set(Object.values(o)), new Set(['unchanged']));
      const reset = await s.veer(['apply', '-f', 'exported/deployments', '--reset']);
      assert.equal(reset.code, 0, reset.stderr);
      assert.deepEqual(outcomes(reset), { 'deployment/shop-web': 'unchanged' });
    } finally {
      await s.veer(['delete', '-f', 'shop-web']);
    }
  });

  it('delete -f deletes the objects in the files; missing ones are "not found", not an error', async () => {
    const res = await s.veer(['delete', '-f', 'shop']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.stdout.trim().split('\n'), [
      'workflow/shop-canary deleted',
      'gateway/shop deleted',
      'notifier/shop-alerts deleted',
      'secret/shop-token deleted',
    ]);
    for (const p of ['workflows/shop-canary', 'gateways/shop', 'notifiers/shop-alerts', 'secrets/shop-token'])
      assert.equal((await s.t.call('GET', `/api/v1/${p}`)).status, 404, p);
    const again = await s.veer(['delete', '-f', 'shop']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^workflow\/shop-canary not found$/m);
  });

  it('an unreachable API exits 5', async () => {
    await s.stopApi();
    try {
      const res = await apply('-f', 'shop');
      assert.equal(res.code, 5, res.stderr);
      assert.match(res.stderr, /cannot reach the Veer API/);
    } finally {
      await s.startApi();
    }
  });
});
