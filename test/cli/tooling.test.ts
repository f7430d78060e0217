import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startCliSystem, type CliSystem } from '../helpers/cli.ts';

const BIN = fileURLToPath(new URL('../../cli/veer.mjs', import.meta.url));
const TOKEN = 'tok-3f9a7c1e-never-printed';

/** Runs bash with a `veer` on PATH that is this checkout's bin (as `npm i -g .` would install). */
function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('veer config, completion, init and check', () => {
  let s: CliSystem;
  before(async () => {
    s = await startCliSystem();
  });
  after(() => s.stop());

  it('keeps contexts in the config file, uses the current one, and never prints a token', async () => {
    const outputs: string[] = [];
    const veer = async (args: string[], env?: Record<string, string | undefined>) => {
      const r = await s.veer(args, { env: { VEER_URL: undefined, ...env } });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    // A context pointing nowhere first, then the real one: use-context decides which is used.
    assert.equal((await veer(['config', 'set-context', 'elsewhere', '--url', 'http://127.0.0.1:9', '--token', TOKEN])).code, 0);
    assert.equal((await veer(['config', 'set-context', 'local', '--url', s.url, '--token-env', 'LOCAL_TOKEN'])).code, 0);
    assert.equal((await veer(['config', 'use-context', 'local'])).code, 0);

    const list = await veer(['config', 'get-contexts']);
    assert.equal(list.code, 0);
    const rows = list.stdout.trim().split('\n');
    assert.match(rows[0]!, /CURRENT\s+NAME\s+URL\s+AUTH/);
    assert.match(list.stdout, /^\*\s+local\s+\S+\s+\$LOCAL_TOKEN$/m);
    assert.match(list.stdout, /^\s+elsewhere\s+http:\/\/127\.0\.0\.1:9\s+token$/m);
    const json = JSON.parse((await veer(['-o', 'json', 'config', 'get-contexts'])).stdout) as Array<{ name: string; current: boolean }>;
    assert.deepEqual(
      json.map((c) => [c.name, c.current]),
      [
        ['elsewhere', false],
        ['local', true],
      ],
    );
    assert.equal((await veer(['config', 'current-context'])).stdout.trim(), 'local');

    const view = await veer(['config', 'view']);
    assert.equal(view.code, 0);
    assert.equal((parse(view.stdout) as { contexts: Array<{ token?: string }> }).contexts[0]!.token, '***');

    // The file holds the token, so only its owner may read it.
    assert.equal((await stat(s.env.VEER_CONFIG!)).mode & 0o777, 0o600);
    assert.ok((await readFile(s.env.VEER_CONFIG!, 'utf8')).includes(TOKEN));

    // A later command talks to the current context's URL (VEER_URL unset): the workflow it lists is there.
    await s.t.call('PUT', '/api/v1/workflows/ctx-probe', { script: 'export default async () => 1' });
    const listed = await veer(['-o', 'json', 'get', 'workflows']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as Array<{ name: string }>).some((w) => w.name === 'ctx-probe'));
    const names = await veer(['__complete', '--', 'describe', 'workflow', 'ctx-']);
    assert.equal(names.stdout.trim(), 'ctx-probe');
    // --context picks another context for one command: that one does not answer.
    assert.equal((await veer(['--context', 'elsewhere', 'get', 'workflows'])).code, 5);

    const missing = await veer(['config', 'use-context', 'nope']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no context 'nope'.*known: elsewhere, local/);

    assert.equal((await veer(['config', 'delete-context', 'elsewhere'])).code, 0);
    assert.doesNotMatch((await veer(['config', 'get-contexts'])).stdout, /elsewhere/);

    for (const text of outputs) assert.ok(!text.includes(TOKEN), `a token was printed: ${text}`);
  });

  it('prints bash and zsh completion scripts that complete commands, kinds and object names', async () => {
    await s.t.call('PUT', '/api/v1/workflows/nightly-report', { script: 'export default async () => 1' });
    const script = await s.veer(['completion', 'bash']);
    assert.equal(script.code, 0);
    const file = join(s.dir, 'veer.bash');
    await writeFile(file, script.stdout);
    assert.equal((await bash(`bash -n ${file}`, {})).code, 0);

    const shim = join(s.dir, 'bin');
    await mkdir(shim, { recursive: true });
    await writeFile(join(shim, 'veer'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    await chmod(join(shim, 'veer'), 0o755);
    const complete = async (...words: string[]) => {
      const r = await bash(
        `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _veer; printf '%s\\n' "\${COMPREPLY[@]}"`,
        { ...s.env, PATH: `${shim}:${process.env.PATH}` },
      );
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(await complete('veer', 'ap'), ['apply']);
    assert.deepEqual(await complete('veer', 'config', 'use-'), ['use-context']);
    assert.ok((await complete('veer', 'describe', '')).includes('workflow'));
    assert.ok((await complete('veer', 'describe', 'workflow', '')).includes('nightly-report'));
    assert.deepEqual(await complete('veer', 'describe', 'workflow', 'nig'), ['nightly-report']);
    assert.deepEqual(await complete('veer', '-o', 'y'), ['yaml']);

    // An API that does not answer completes nothing, quietly.
    const away = await s.veer(['__complete', '--', 'describe', 'workflow', ''], { env: { VEER_URL: 'http://127.0.0.1:9' } });
    assert.deepEqual([away.code, away.stdout, away.stderr], [0, '', '']);

    const zsh = await s.veer(['completion', 'zsh']);
    assert.equal(zsh.code, 0);
    assert.match(zsh.stdout, /^#compdef veer$/m);
    assert.match(zsh.stdout, /__complete/);
  });

  it('scaffolds a workflow project whose script passes check and runs on Veer', async () => {
    const dir = join(s.dir, 'greeter');
    const init = await s.veer(['init', dir, '--name', 'greeter']);
    assert.equal(init.code, 0, init.stderr);
    assert.deepEqual((await readdir(dir)).sort(), ['README.md', 'greeter.ts', 'tsconfig.json', 'veer-types.ts', 'veer.yaml']);
    const manifest = parse(await readFile(join(dir, 'veer.yaml'), 'utf8')) as {
      kind: string;
      name: string;
      labels: Record<string, string>;
      spec: { script: string };
    };
    assert.deepEqual([manifest.kind, manifest.name, manifest.labels, manifest.spec.script], ['Workflow', 'greeter', { app: 'greeter' }, './greeter.ts']);
    assert.equal(
      await readFile(join(dir, 'veer-types.ts'), 'utf8'),
      await readFile(fileURLToPath(new URL('../../workflows/types.ts', import.meta.url)), 'utf8'),
    );
    const tsconfig = JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    assert.equal(tsconfig.compilerOptions.strict, true);

    const check = await s.veer(['check', join(dir, 'greeter.ts'), join(dir, 'veer.yaml')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /greeter\.ts: ok/);

    // The API accepts the script as it is (its `import type` is erased) and runs it.
    const source = await readFile(join(dir, 'greeter.ts'), 'utf8');
    assert.match(source, /^import type \{ Ctx \} from '\.\/veer-types\.ts';/);
    const put = await s.t.call('PUT', '/api/v1/workflows/greeter', { script: source, env: { GREETING: 'hi' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const run = await s.t.call('POST', '/api/v1/workflows/greeter/runs?wait=true', { input: { who: 'sre' } });
    assert.equal(run.body.status, 'succeeded', JSON.stringify(run.body));
    assert.deepEqual(run.body.result, { runs: 1, trigger: 'manual' });

    const again = await s.veer(['init', dir, '--name', 'greeter']);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /not overwriting .*veer\.yaml.*--force/);
    assert.equal((await s.veer(['init', dir, '--name', 'greeter', '--force'])).code, 0);
  });

  it('check reports a broken script as file:line:column and exits 1', async () => {
    const good = join(s.dir, 'good.ts');
    const bad = join(s.dir, 'bad.ts');
    await writeFile(good, 'export default async function (ctx: { log: { info(m: string): void } }) {\n  ctx.log.info("ok");\n}\n');
    await writeFile(bad, 'export default async function () {\n  return 1 +;\n}\n');
    const r = await s.veer(['check', good, bad]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /good\.ts: ok/);
    assert.match(r.stdout, /bad\.ts:2:13: Expression expected/);

    // An inline script in a manifest: the position is in the manifest.
    const manifest = join(s.dir, 'inline.yaml');
    await writeFile(manifest, 'kind: Workflow\nname: inline\nspec:\n  script: |\n    export default async function () {\n      return 1 +;\n    }\n');
    const m = await s.veer(['check', manifest]);
    assert.equal(m.code, 1);
    assert.match(m.stdout, /inline\.yaml:6:17: Expression expected/);
  });
});
