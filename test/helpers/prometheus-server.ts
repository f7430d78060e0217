import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, whenReady } from './process.ts';

export interface PrometheusOptions {
  /** Appended to prom.yml's `scrape_configs`. */
  scrapeConfigs?: Array<Record<string, unknown>>;
  /** Recording/alerting rules (a rules file: `{ groups: [...] }`, or its YAML text), written to rules.yml and listed in `rule_files`. */
  rules?: string | Record<string, unknown>;
  /** An Alertmanager to send alerts to (`http://127.0.0.1:<port>`), as `alerting.alertmanagers`. */
  alertmanagerUrl?: string;
  /**
   * Raw prom.yml keys (`alerting`, `remote_write`, …), merged over the ones above: `global` is
   * merged key by key, `scrape_configs` and `rule_files` are appended, anything else replaces.
   */
  config?: Record<string, unknown>;
  /** More command-line flags, e.g. `--query.lookback-delta=10s`. */
  extraArgs?: string[];
}

export interface TestPrometheus {
  url: string;
  port: number;
  /** Holds prom.yml, rules.yml and the TSDB. */
  dir: string;
  /** Rewrites prom.yml (and rules.yml) from `options` (replacing the ones it was started with) and reloads; resolves once Prometheus has applied it. */
  reload: (options?: Omit<PrometheusOptions, 'extraArgs'>) => Promise<void>;
  /** Stops the server and removes its directory. */
  stop: () => Promise<void>;
}

/** A static scrape job for `targets` (`127.0.0.1:<port>`), scraped every second. */
export function staticScrape(jobName: string, targets: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { job_name: jobName, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets }], ...extra };
}

/**
 * Starts a private Prometheus on a free loopback port with a temp TSDB, scraping and evaluating
 * rules every second (services.md §7). `--rules.alert.resend-delay=1s`: Prometheus finds its
 * Alertmanagers ~5 s after start, and an alert fired before then would otherwise wait a minute
 * to be re-sent. `--web.enable-lifecycle` makes `reload` possible. prom.yml is written as JSON,
 * which is YAML. Fails at once, naming Prometheus, when it is not installed or exits instead of serving.
 */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<TestPrometheus> {
  requireInstalled('prometheus');
  const port = await freePort();
  const dir = await tempDir('prometheus');
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(dir.path, 'prom.yml');
  await writeConfig(dir.path, options);
  const proc = startProcess('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir.path, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--rules.alert.resend-delay=1s',
    '--web.enable-lifecycle',
    '--log.level=warn',
    ...(options.extraArgs ?? []),
  ]);
  const stop = await whenReady(proc, dir, async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok, {
    timeoutMs: 20_000,
    what: `Prometheus on ${port}`,
  });
  return {
    url,
    port,
    dir: dir.path,
    async reload(next = options) {
      await writeConfig(dir.path, next);
      // The handler answers once the new config is applied, 500 with the reason when it is refused.
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`Prometheus refused the new config (${res.status}): ${await res.text()}`);
    },
    stop,
  };
}

async function writeConfig(dir: string, options: Omit<PrometheusOptions, 'extraArgs'>): Promise<void> {
  const raw = options.config ?? {};
  const ruleFiles: unknown[] = [];
  if (options.rules !== undefined) {
    const file = join(dir, 'rules.yml');
    await writeFile(file, typeof options.rules === 'string' ? options.rules : JSON.stringify(options.rules, null, 2));
    ruleFiles.push(file);
  }
  const alerting = options.alertmanagerUrl ? { alertmanagers: [alertmanager(options.alertmanagerUrl)] } : undefined;
  const config = {
    ...(alerting ? { alerting } : {}),
    ...raw,
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s', ...(raw.global as object | undefined) },
    scrape_configs: [...(options.scrapeConfigs ?? []), ...((raw.scrape_configs as unknown[] | undefined) ?? [])],
    rule_files: [...ruleFiles, ...((raw.rule_files as unknown[] | undefined) ?? [])],
  };
  await writeFile(join(dir, 'prom.yml'), JSON.stringify(config, null, 2));
}

function alertmanager(url: string): Record<string, unknown> {
  const u = new URL(url);
  const prefix = u.pathname.replace(/\/+$/, '');
  return { scheme: u.protocol.replace(':', ''), static_configs: [{ targets: [u.host] }], ...(prefix ? { path_prefix: prefix } : {}) };
}
