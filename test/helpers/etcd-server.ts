import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, whenReady } from './process.ts';

export interface TestEtcd {
  url: string;
  port: number;
  /** Stops the server and removes its data directory. */
  stop: () => Promise<void>;
}

/**
 * Starts a private single-member etcd on free loopback client and peer ports with a temp
 * data dir. Short heartbeat/election timings make it ready in well under a second
 * (services.md §1.2). Fails at once, naming etcd, when it is not installed or exits instead of serving.
 */
export async function startEtcd(): Promise<TestEtcd> {
  requireInstalled('etcd');
  const [port, peerPort] = await Promise.all([freePort(), freePort()]);
  if (port === peerPort) return startEtcd();
  const dir = await tempDir('etcd');
  const url = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = startProcess('etcd', [
    '--name',
    'veer-test',
    '--data-dir',
    `${dir.path}/data`,
    '--heartbeat-interval',
    '10',
    '--election-timeout',
    '100',
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `veer-test=${peer}`,
  ]);
  const stop = await whenReady(
    proc,
    dir,
    async () => {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    },
    { timeoutMs: 15_000, what: `etcd on ${port}` },
  );
  return { url, port, stop };
}
