import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { freePort } from '../helpers/free-port.ts';

const EXAMPLE = fileURLToPath(new URL('../../deploy/examples/shop/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The local-scheduler settings the shop walkthroughs run with: quick health checks and drains. */
export const SHOP_ENV = { VEER_SCHEDULER: 'local', VEER_LOCAL_DRAIN_MS: '500', VEER_LOCAL_HEALTH_INTERVAL_MS: '200', VEER_LOCAL_STOP_GRACE_MS: '5000' };

/**
 * deploy/examples/shop (a canary workflow, its gateway and two local deployments) copied into
 * `<parent>/shop` for a test, different from the example only where a test must: a free port,
 * absolute paths, a per-second schedule and a 5 s window so the release takes seconds, not minutes.
 * Returns the directory (for `veer apply -f`) and the gateway's port.
 */
export async function copyShopExample(parent: string): Promise<{ dir: string; port: number }> {
  const dir = join(parent, 'shop');
  await mkdir(dir);
  const port = await freePort();
  const copy = async (file: string, edit: (doc: Record<string, any>) => void) => {
    const docs = parseAllDocuments(await readFile(join(EXAMPLE, file), 'utf8'));
    const out = docs.map((d) => {
      const js = d.toJS() as Record<string, any>;
      edit(js);
      return JSON.stringify(js);
    });
    // JSON is YAML: one document per `---`.
    await writeFile(join(dir, file), out.join('\n---\n'));
  };
  await copy('deployments.yaml', (d) => {
    d.spec.command = process.execPath;
    d.spec.args = [join(ROOT, d.spec.args[0])];
  });
  await copy('gateway.yaml', (d) => (d.spec.port = port));
  await copy('canary.yaml', (d) => {
    d.spec.script = join(ROOT, 'workflows/canary-release.ts');
    d.spec.trigger.cron = '* * * * * *';
    // A loaded machine: enough checks to gather samples at 5 %, and its p99 tails are not these
    // tests' subject: a canary process just started answers slower than a warm stable one (seen:
    // 240 ms against 70 ms beside cpu-load, a rollback), so the relative check gets a tolerance
    // that leaves the absolute cap (MAX_P99_MS, 1 s) to judge latency.
    Object.assign(d.spec.env, { WINDOW: '5s', MIN_SAMPLES: 20, MAX_NO_DATA: 30, P99_TOLERANCE_MS: 1000 });
  });
  return { dir, port };
}
