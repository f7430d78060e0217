import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, whenReady } from './process.ts';

export interface AlertmanagerOptions {
  /** Where the one receiver (`veer`) posts: a webhook_config `url`, with `send_resolved: true`. */
  receiverUrl: string;
  /** Sent as `Authorization: Bearer <token>` (http_config.authorization.credentials). */
  bearerToken?: string;
  /** Keys merged over the default route (`group_by: ['alertname']`, 1 s group_wait/group_interval, 1 h repeat_interval). */
  route?: Record<string, unknown>;
}

export interface TestAlertmanager {
  url: string;
  port: number;
  /** Stops the server and removes its directory. */
  stop: () => Promise<void>;
}

/**
 * Starts a private Alertmanager on a free loopback port with a temp storage dir and no cluster
 * port (`--cluster.listen-address=` empty: no gossip, services.md §7), routing every alert to one
 * webhook receiver. The short route timings make a posted alert reach the receiver in about a
 * second. am.yml is written as JSON, which is YAML. Fails at once, naming Alertmanager, when it is
 * not installed or exits instead of serving.
 */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<TestAlertmanager> {
  requireInstalled('prometheus-alertmanager');
  const port = await freePort();
  const dir = await tempDir('alertmanager');
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(dir.path, 'am.yml');
  const webhook = {
    url: options.receiverUrl,
    send_resolved: true,
    ...(options.bearerToken ? { http_config: { authorization: { type: 'Bearer', credentials: options.bearerToken } } } : {}),
  };
  const config = {
    route: { receiver: 'veer', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h', ...options.route },
    receivers: [{ name: 'veer', webhook_configs: [webhook] }],
  };
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const proc = startProcess('prometheus-alertmanager', [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir.path, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  const stop = await whenReady(proc, dir, async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok, {
    timeoutMs: 20_000,
    what: `Alertmanager on ${port}`,
  });
  return { url, port, stop };
}
