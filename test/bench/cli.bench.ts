/**
 * How long a `veer` command takes, end to end as a user waits for it: a new process, Node 24's
 * type stripping of the CLI, the API calls, the output. Baseline, measured in the same run: a
 * bare `node` process that fetches the same list with no CLI at all (the floor for any Node
 * command line), so the ratio is what the CLI itself costs.
 * Run: npm run bench -- cli   (or node --no-node-snapshot test/bench/cli.bench.ts [rounds] [workflows])
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { startCliSystem } from '../helpers/cli.ts';

const rounds = Number(process.argv[2] ?? 10);
const workflows = Number(process.argv[3] ?? 50);
const BIN = fileURLToPath(new URL('../../cli/veer.mjs', import.meta.url));

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const s = await startCliSystem();
try {
  const dir = join(s.dir, 'manifests');
  await mkdir(dir);
  const docs: string[] = [];
  for (let i = 0; i < workflows; i++) {
    const name = `bench-${String(i).padStart(3, '0')}`;
    docs.push(`kind: Workflow\nname: ${name}\nlabels: { app: bench }\nspec:\n  script: "export default async function (ctx) { return ${i} }"\n`);
  }
  await writeFile(join(dir, 'workflows.yaml'), docs.join('---\n'));
  const env = { ...process.env, ...s.env };
  // Asynchronous: the API under test is served by this very process.
  const exec = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, args, { env, cwd: s.dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      c.on('close', (code) => resolve({ code, stderr }));
    });
  const time = async (args: string[]) => {
    const t0 = performance.now();
    const r = await exec(args);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    return performance.now() - t0;
  };
  const first = await exec([BIN, 'apply', '-f', 'manifests']);
  if (first.code !== 0) throw new Error(first.stderr);
  // A run per workflow, so `get runs` (all workflows) has something to merge.
  await Promise.all(Array.from({ length: workflows }, (_, i) => s.t.call('POST', `/api/v1/workflows/bench-${String(i).padStart(3, '0')}/runs?wait=true`, {})));

  const cases: Array<[string, string[]]> = [
    ['baseline: node + fetch', ['-e', `const r = await fetch(process.env.VEER_URL + '/api/v1/workflows'); await r.text();`, '--input-type=module']],
    ['veer --version', [BIN, '--version']],
    ['veer get workflows -o json', [BIN, 'get', 'workflows', '-o', 'json']],
    ['veer get workflows', [BIN, 'get', 'workflows']],
    [`veer get runs (${workflows} workflows)`, [BIN, 'get', 'runs']],
    [`veer apply -f (${workflows} unchanged)`, [BIN, 'apply', '-f', 'manifests']],
    [`veer diff -f (${workflows} unchanged)`, [BIN, 'diff', '-f', 'manifests']],
  ];
  // `-e` code must come after the flag that makes it a module.
  cases[0][1] = ['--input-type=module', '-e', cases[0][1][1]!];
  const results = [];
  for (const [name, args] of cases) {
    await time(args); // warms the file cache
    const xs: number[] = [];
    for (let i = 0; i < rounds; i++) xs.push(await time(args));
    results.push({ name, p50: pct(xs, 50), max: Math.max(...xs) });
  }
  const base = results[0]!.p50;
  console.log(`veer commands as processes against a local API (loopback), ${rounds} rounds each, ${workflows} workflows`);
  console.log('command                              p50         max         vs baseline p50');
  for (const r of results)
    console.log(`${r.name.padEnd(36)} ${`${r.p50.toFixed(0)} ms`.padEnd(11)} ${`${r.max.toFixed(0)} ms`.padEnd(11)} ${(r.p50 / base).toFixed(2)}x`);
} finally {
  await s.stop();
}
