import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, whenReady, type ServiceProcess } from './process.ts';
import { waitFor } from './wait-for.ts';

export interface TestEtcd {
  url: string;
  port: number;
  /** Stops the server and removes its data directory. */
  stop: () => Promise<void>;
  /** Ends the server with `signal` (default SIGKILL: a crash), keeping its data directory and ports for `restart()`. */
  kill: (signal?: NodeJS.Signals) => Promise<void>;
  /** Starts it again on the same ports and data (after `kill`); resolves once /health says true. */
  restart: () => Promise<void>;
  /** SIGSTOP / SIGCONT: a hung server (connections stay open, nothing answers) and its return. */
  pause: () => void;
  resume: () => Promise<void>;
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
  const args = [
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
  ];
  const healthy = async () => {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  };
  let proc: ServiceProcess = startProcess('etcd', args);
  const stop = await whenReady(proc, dir, healthy, { timeoutMs: 15_000, what: `etcd on ${port}` });
  return {
    url,
    port,
    stop: async () => {
      await proc.stop();
      await stop();
    },
    kill: (signal = 'SIGKILL') => proc.stop(signal),
    pause: () => void proc.child.kill('SIGSTOP'),
    resume: async () => {
      proc.child.kill('SIGCONT');
      await waitFor(healthy, { timeoutMs: 15_000, what: `etcd answering on ${port} after SIGCONT` });
    },
    restart: async () => {
      // An existing data dir makes etcd ignore the --initial-* flags: the same member comes back.
      // Should etcd exit at once (its port not yet free after the kill), it is started again.
      await waitFor(
        async () => {
          const exited = proc.child.exitCode !== null || proc.child.signalCode !== null;
          if (exited) proc = startProcess('etcd', args);
          return !exited && healthy();
        },
        { timeoutMs: 15_000, what: `etcd restarting on ${port}` },
      ).catch(async (err) => {
        throw new Error(`${(err as Error).message}: ${proc.output().trim().slice(-1000)}`);
      });
    },
  };
}
