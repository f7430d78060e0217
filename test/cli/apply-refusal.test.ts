import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCliSystem, type CliSystem } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * `veer apply -f dir` with two new gateways on one port. The API's dry run checks each gateway
 * against what is stored (engine/gateways/service.ts planPut → checkPort), where neither exists
 * yet, so both would pass it and the second would be refused half-way through the apply, after
 * the first was stored. The CLI checks ports across the files first (cli/manifests/validate.ts):
 * nothing is applied, and the error names both documents.
 */
const SCRIPT = 'export default async function (ctx) {\n  return 1;\n}\n';

describe('veer apply -f: two gateways of the files on one port', () => {
  let s: CliSystem;
  let port: number;
  let otherPort: number;
  const manifest = () => join(s.dir, 'dup', 'shop.yaml');

  before(async () => {
    s = await startCliSystem();
    [port, otherPort] = await Promise.all([freePort(), freePort()]);
    await mkdir(join(s.dir, 'dup'), { recursive: true });
    const gateway = (name: string, p: number, target: number) => [
      'kind: Gateway',
      `name: ${name}`,
      'spec:',
      `  port: ${p}`,
      '  routes:',
      `    stable: { weight: 100, targets: [{ host: 127.0.0.1, port: ${target} }] }`,
    ];
    // Apply order is by kind, then name (apply-plan.ts applyOrder): notifier/dup-alerts,
    // gateway/dup-a, gateway/dup-b (refused), gateway/dup-c, workflow/dup-wf.
    await writeFile(
      manifest(),
      [
        'kind: Workflow',
        'name: dup-wf',
        'spec:',
        '  script: |',
        ...SCRIPT.trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
        '---',
        ...gateway('dup-b', port, 9202),
        '---',
        ...gateway('dup-a', port, 9201),
        '---',
        ...gateway('dup-c', otherPort, 9203),
        '---',
        'kind: Notifier',
        'name: dup-alerts',
        'spec:',
        '  url: http://127.0.0.1:9/hook',
        '  events: { tags: [] }',
        '',
      ].join('\n'),
    );
  });
  after(() => s?.stop());

  const exists = async (path: string) => {
    const r = await s.t.call('GET', `/api/v1/${path}`);
    assert.ok(r.status === 200 || r.status === 404, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.status === 200;
  };

  it('refuses the clash before anything is applied, naming both documents (dry run and apply alike)', async () => {
    for (const args of [
      ['apply', '-f', 'dup', '--dry-run'],
      ['apply', '-f', 'dup'],
      ['diff', '-f', 'dup'],
    ]) {
      const res = await s.veer(args);
      assert.notEqual(res.code, 0, args.join(' '));
      assert.match(
        res.stderr,
        new RegExp(
          `dup/shop\\.yaml \\(document 3, line \\d+\\): spec\\.port: port ${port} is also the port of gateway/dup-b in dup/shop\\.yaml \\(document 2\\)`,
        ),
        `${args.join(' ')}: ${res.stderr}`,
      );
      assert.equal(res.stdout.trim(), '', `${args.join(' ')} printed no object`);
    }
    for (const path of ['notifiers/dup-alerts', 'gateways/dup-a', 'gateways/dup-b', 'gateways/dup-c', 'workflows/dup-wf'])
      assert.equal(await exists(path), false, `${path}: nothing was applied`);
  });

  it('with the clash fixed, everything is applied', async () => {
    const fixedPort = await freePort();
    const text = await readFile(manifest(), 'utf8');
    await writeFile(manifest(), text.replace(`name: dup-b\nspec:\n  port: ${port}`, `name: dup-b\nspec:\n  port: ${fixedPort}`));
    const res = await s.veer(['apply', '-f', 'dup']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.stdout.trim().split('\n'), [
      'notifier/dup-alerts created',
      'gateway/dup-a created',
      'gateway/dup-b created',
      'gateway/dup-c created',
      'workflow/dup-wf created',
    ]);
    assert.equal((await s.t.call('GET', '/api/v1/gateways/dup-b')).body.port, fixedPort);
    assert.equal((await s.t.call('GET', '/api/v1/workflows/dup-wf')).body.script, SCRIPT);
  });
});
