import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireInstalled } from '../setup/services.ts';
import { startProcess } from './process.ts';
import { freePorts, serverGroup, type Takeover } from './redis-cluster.ts';
import { waitFor } from './wait-for.ts';

export interface TestRedisSentinel {
  /** "127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3": the three sentinels. */
  sentinels: string;
  /** The master group the sentinels monitor (ioredis's `name`). */
  name: string;
  /** The port of the master the sentinels name now (SENTINEL get-master-addr-by-name). */
  masterPort(): Promise<number>;
  /**
   * A crash: SIGKILLs the current master and waits until every sentinel names the replica as master and it
   * answers ROLE master; `ms` is the time from the kill to then. The old master stays down.
   */
  killMaster(): Promise<Takeover>;
  /** Stops every process and removes the directories. */
  stop(): Promise<void>;
}

const NAME = 'veer-test';
// --repl-diskless-sync-delay 0: a master waits 5 s by default before a full sync (for more replicas to join it).
const SERVER_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0'];
const READY_MS = 30_000;
const TAKEOVER_MS = 30_000;

/**
 * The sentinel config. down-after 1 s (default 30 s) and failover-timeout 3 s (default 3 min) make a crashed
 * master replaced in a few seconds. The file is the sentinel's own: it rewrites it with what it learns.
 */
const sentinelConf = (port: number, dir: string, masterPort: number) =>
  [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    'sentinel resolve-hostnames no',
    `sentinel monitor ${NAME} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${NAME} 1000`,
    `sentinel failover-timeout ${NAME} 3000`,
    `sentinel parallel-syncs ${NAME} 1`,
    '',
  ].join('\n');

/**
 * Starts a private Redis Sentinel setup on free loopback ports: a master, one replica (--replicaof) and three
 * sentinels (quorum 2), each in its own temp directory, all this helper's own children. Resolves once every
 * sentinel knows the replica and the two other sentinels, so a failover can happen from then on.
 *
 * Measured on this 2-core machine (2026-12-03, also beside `shared/tools/cpu-load 1`): spawn to ready 2.2-2.4 s,
 * most of it the sentinels' hello messages (every 2 s) that make them find each other; killMaster() 2.25-2.4 s
 * (down-after 1 s, then the vote and the promotion).
 */
export async function startRedisSentinel(): Promise<TestRedisSentinel> {
  requireInstalled('redis-server');
  const [master, replica, ...sentinelPorts] = await freePorts(5);
  const { dir, procs, admin, stop } = await serverGroup('redis-sentinel');
  const outputs = () =>
    [...procs]
      .map(([port, p]) => `--- ${sentinelPorts.includes(port) ? 'sentinel' : 'redis-server'} ${port}:\n${p.output().trim().slice(-600)}`)
      .join('\n')
      .slice(-4000);
  const assertRunning = () => {
    for (const p of procs.values()) p.assertRunning();
  };
  const ask = async (port: number, ...args: string[]) => admin(port).call(args[0], ...args.slice(1));

  try {
    const serverDir = async (name: string) => {
      const path = join(dir.path, name);
      await mkdir(path);
      return path;
    };
    const masterDir = await serverDir('master');
    procs.set(master, startProcess('redis-server', ['--port', String(master), '--dir', masterDir, ...SERVER_ARGS]));
    const replicaDir = await serverDir('replica');
    procs.set(
      replica,
      startProcess('redis-server', ['--port', String(replica), '--dir', replicaDir, '--replicaof', '127.0.0.1', String(master), ...SERVER_ARGS]),
    );
    // Sentinels learn replicas from the master's INFO, polled every 10 s: start them once the replica is
    // attached, so the first poll already lists it.
    await waitFor(
      async () => {
        assertRunning();
        return /^master_link_status:up\r?$/m.test(await admin(replica).info('replication'));
      },
      { timeoutMs: READY_MS, what: `replica ${replica} to sync with master ${master}` },
    );
    for (const port of sentinelPorts) {
      const sentinelDir = await serverDir(`sentinel-${port}`);
      const conf = join(sentinelDir, 'sentinel.conf');
      await writeFile(conf, sentinelConf(port, sentinelDir, master));
      procs.set(port, startProcess('redis-server', [conf, '--sentinel'], { cwd: sentinelDir }));
    }
    await waitFor(
      async () => {
        assertRunning();
        const ready = await Promise.all(
          sentinelPorts.map(async (port) => {
            const replicas = fields((await ask(port, 'SENTINEL', 'REPLICAS', NAME)) as string[][]);
            const peers = fields((await ask(port, 'SENTINEL', 'SENTINELS', NAME)) as string[][]);
            const replicaUp = replicas.some((r) => Number(r.port) === replica && !/s_down|disconnected/.test(r.flags ?? ''));
            const peersUp = peers.filter((s) => !/s_down|disconnected/.test(s.flags ?? '')).length === sentinelPorts.length - 1;
            return replicaUp && peersUp;
          }),
        );
        return ready.every(Boolean);
      },
      { timeoutMs: READY_MS, intervalMs: 50, what: `sentinels ${sentinelPorts.join(',')} to know replica ${replica} and each other` },
    );
  } catch (err) {
    const out = outputs();
    await stop();
    throw new Error(`${(err as Error).message}\n${out}`, { cause: err });
  }

  const named = async (port: number) => {
    const addr = (await ask(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string] | null;
    return addr ? Number(addr[1]) : undefined;
  };
  const masterPort = async () => {
    // Any sentinel that is up answers; they agree outside a failover.
    for (const port of sentinelPorts) {
      const at = await named(port).catch(() => undefined);
      if (at !== undefined) return at;
    }
    throw new Error(`no sentinel of ${sentinelPorts.join(',')} names a master for ${NAME}`);
  };

  const killMaster = async (): Promise<Takeover> => {
    const from = await masterPort();
    const to = [master, replica].find((p) => p !== from);
    const proc = procs.get(from);
    const survivor = to === undefined ? undefined : procs.get(to)?.child;
    if (to === undefined || !proc || !survivor || survivor.exitCode !== null || survivor.signalCode !== null) {
      throw new Error(`no live replica to take over from master ${from} (killMaster works once: the old master stays down)`);
    }
    const started = Date.now();
    await proc.stop('SIGKILL');
    try {
      await waitFor(
        async () => {
          const names = await Promise.all(sentinelPorts.map(named));
          if (!names.every((p) => p === to)) return false;
          const role = (await ask(to, 'ROLE')) as unknown[];
          return role[0] === 'master';
        },
        { timeoutMs: TAKEOVER_MS, intervalMs: 20, what: `sentinels to promote replica ${to} after master ${from} was killed` },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${outputs()}`, { cause: err });
    }
    return { from, to, ms: Date.now() - started };
  };

  return {
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    name: NAME,
    masterPort,
    killMaster,
    stop,
  };
}

/** SENTINEL REPLICAS/SENTINELS answer each entry as a flat [key, value, ...] list. */
function fields(entries: string[][]): Record<string, string>[] {
  return entries.map((flat) => {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
    return out;
  });
}
