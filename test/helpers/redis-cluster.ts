import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, type ServiceProcess } from './process.ts';
import { waitFor } from './wait-for.ts';

export interface ClusterMaster {
  port: number;
  /** Inclusive [first, last] slot ranges this master serves. */
  slots: [number, number][];
}

/** A promotion of `to` (a replica) in place of `from`, and how long it took until the cluster served again. */
export interface Takeover {
  from: number;
  to: number;
  ms: number;
}

export interface TestRedisCluster {
  /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3": the masters at start, the form VEER_REDIS_CLUSTER_NODES takes. */
  nodes: string;
  /** Every node's port: the three masters at start first, then (with replicas) the three replicas, which redis-cli pairs with them as it likes. */
  ports: number[];
  /** The masters serving slots now, as the cluster reports them (CLUSTER SLOTS). */
  masters(): Promise<ClusterMaster[]>;
  /**
   * A planned handover: CLUSTER FAILOVER on a replica of `port`'s master (default: the master of the slot of
   * the key "{probe}"). Resolves once the replica answers ROLE master and every live node reports
   * cluster_state:ok and the same slot map; `ms` is the time from the command to then.
   */
  failover(port?: number): Promise<Takeover>;
  /**
   * A crash: SIGKILLs `port`'s master (default: the master of "{probe}") and waits, as `failover` does, until
   * its replica has been elected in its place (about cluster-node-timeout plus an election). The node stays down.
   */
  killMaster(port?: number): Promise<Takeover>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

/** The key whose slot `failover()` and `killMaster()` move by default; tests write it to follow the handover. */
export const PROBE_KEY = '{probe}';

const CLUSTER_ARGS = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'];
// Two defaults would make the replicas' first sync dominate the start: a master waits 5 s before a diskless full
// sync (for more replicas to join it), and CLUSTER SLOTS lists a replica only once its replication offset is not
// 0, which on an idle master first moves with its ping to the replicas, every 10 s by default.
const SYNC_ARGS = ['--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1'];
// 1 s instead of the default 15 s: a killed master is failed over in about 1-2 s, short enough for a test.
const NODE_TIMEOUT_MS = 1000;
const READY_MS = 30_000;
const TAKEOVER_MS = 20_000;

/**
 * Starts a private Redis Cluster of three masters (and by default one replica each) on free loopback ports,
 * each node in its own temp directory, joined with `redis-cli --cluster create`. Resolves once every node says
 * cluster_state:ok and all agree on the slot map (and, with replicas, each replica's link to its master is up).
 * The processes are this helper's own children (no --daemonize), so `stop()` ends exactly them.
 *
 * Measured on this 2-core machine (2026-12-03, others' tests running, also beside `shared/tools/cpu-load 1`):
 * spawn to ready 2.3-2.8 s with replicas (once 3.3 s) and 2.3-2.5 s without: redis-cli's join takes about 1.0 s,
 * the rest is gossip until every node says cluster_state:ok. So replicas are the default. Against the ~8 s in
 * services.md §7: the 1 s node timeout shortens redis-cli's join (3.0 s with the default 15 s), polling replaces a
 * fixed wait, and with replicas SYNC_ARGS save 5-10 s; `--cluster-yes` only replaces `echo yes |`.
 * failover() took 0.2-0.5 s, killMaster() 2.0-2.9 s (node timeout 1 s, then the election).
 */
export async function startRedisCluster(options: { replicas?: boolean } = {}): Promise<TestRedisCluster> {
  requireInstalled('redis-server');
  requireInstalled('redis-cli');
  const replicas = options.replicas ?? true;
  const count = replicas ? 6 : 3;
  // Each node needs a client port and a cluster bus port; the default bus port (port + 10000) may be taken or
  // past 65535, so it is chosen freely too (cluster-port, Redis 7).
  const all = await freePorts(count * 2);
  const ports = all.slice(0, count);
  const busPorts = all.slice(count);
  const { dir, procs, admin, stop } = await serverGroup('redis-cluster');
  const live = () => ports.filter((p) => isRunning(procs.get(p)));
  const outputs = () =>
    ports
      .map((p) => `--- redis-server ${p}:\n${procs.get(p)?.output().trim().slice(-600) ?? ''}`)
      .join('\n')
      .slice(-4000);

  try {
    for (const [i, port] of ports.entries()) {
      const nodeDir = join(dir.path, String(port));
      await mkdir(nodeDir);
      const args = ['--port', String(port), '--cluster-port', String(busPorts[i]), '--dir', nodeDir, ...CLUSTER_ARGS, ...SYNC_ARGS];
      procs.set(port, startProcess('redis-server', [...args, '--cluster-node-timeout', String(NODE_TIMEOUT_MS)], { cwd: nodeDir }));
    }
    await waitFor(
      async () => {
        for (const p of procs.values()) p.assertRunning();
        const pongs = await Promise.all(ports.map((p) => admin(p).ping()));
        return pongs.every((r) => r === 'PONG');
      },
      { timeoutMs: 10_000, what: `redis-server cluster nodes ${ports.join(',')} to answer PING` },
    );
    const create = ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', replicas ? '1' : '0', '--cluster-yes'];
    const joined = await redisCli(create);
    try {
      await waitFor(
        async () => {
          for (const p of procs.values()) p.assertRunning();
          if (!(await settled(ports, admin))) return false;
          if (!replicas) return true;
          // CLUSTER SLOTS lists a replica only once its sync is done and gossiped: until then ioredis and a failover
          // would not see it.
          const entries = await clusterSlots(admin(ports[0]));
          return entries.every((e) => e.replicas.length === 1) && (await replicasLinked(ports, admin));
        },
        { timeoutMs: READY_MS, what: `Redis Cluster ${ports.join(',')} to agree on slots with cluster_state:ok` },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\nredis-cli ${create.join(' ')}:\n${joined}\n${outputs()}`, { cause: err });
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const masters = async () => slotMap(await clusterSlots(admin(live()[0])));

  /** The master serving `port`'s slots (`port` itself, or its master when it is a replica), or the master of PROBE_KEY. */
  const masterOf = async (port?: number) => {
    const at = admin(live()[0]);
    const entries = await clusterSlots(at);
    if (port === undefined) {
      const slot = Number(await at.call('CLUSTER', 'KEYSLOT', PROBE_KEY));
      const entry = entries.find((e) => e.first <= slot && slot <= e.last);
      if (!entry) throw new Error(`no master serves slot ${slot} of ${PROBE_KEY}`);
      return entry;
    }
    const entry = entries.find((e) => e.master === port || e.replicas.includes(port));
    if (!entry) throw new Error(`port ${port} is no live master or replica serving slots in cluster ${ports.join(',')}`);
    return entry;
  };

  const takeover = async (port: number | undefined, how: 'failover' | 'kill'): Promise<Takeover> => {
    const entry = await masterOf(port);
    const from = entry.master;
    const to = entry.replicas.find((p) => isRunning(procs.get(p)));
    if (to === undefined) throw new Error(`master ${from} has no live replica to take over (start the cluster with replicas: true)`);
    const started = Date.now();
    if (how === 'failover') await admin(to).call('CLUSTER', 'FAILOVER');
    else await procs.get(from)?.stop('SIGKILL');
    try {
      await waitFor(
        async () => {
          const role = (await admin(to).call('ROLE')) as unknown[];
          if (role[0] !== 'master') return false;
          const nodes = live();
          if (!(await settled(nodes, admin))) return false;
          const now = await clusterSlots(admin(nodes[0]));
          return now.some((e) => e.master === to && e.first === entry.first);
        },
        { timeoutMs: TAKEOVER_MS, intervalMs: 20, what: `replica ${to} to take over from master ${from} (${how})` },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${outputs()}`, { cause: err });
    }
    return { from, to, ms: Date.now() - started };
  };

  return {
    nodes: ports
      .slice(0, 3)
      .map((p) => `127.0.0.1:${p}`)
      .join(','),
    ports,
    masters,
    failover: (port) => takeover(port, 'failover'),
    killMaster: (port) => takeover(port, 'kill'),
    stop,
  };
}

/** `n` distinct free loopback ports (the kernel may hand out a port again once its probe closed). */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/**
 * What a test topology of several servers shares: their temp dir, their processes by port, an
 * admin connection per port, and the stop that ends all three.
 */
export async function serverGroup(prefix: string) {
  const dir = await tempDir(prefix);
  const procs = new Map<number, ServiceProcess>();
  const admins = adminClients();
  const stop = async () => {
    admins.close();
    await Promise.all([...procs.values()].map((p) => p.stop()));
    await dir.remove();
  };
  return { dir, procs, admin: admins.get, stop };
}

/** One admin connection per port, made on first use; `close` disconnects them all. */
export function adminClients(): { get(port: number): Redis; close(): void } {
  const clients = new Map<number, Redis>();
  return {
    get(port) {
      let client = clients.get(port);
      if (!client) {
        client = adminClient(port);
        clients.set(port, client);
      }
      return client;
    },
    close() {
      for (const client of clients.values()) client.disconnect();
      clients.clear();
    },
  };
}

/**
 * A connection for polling one node: commands fail at once while it is down instead of queueing, and it keeps
 * reconnecting, so the same client serves before and after a node restarts or is promoted.
 */
export function adminClient(port: number): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    commandTimeout: 2000,
    retryStrategy: () => 50,
  });
  client.on('error', () => {});
  return client;
}

/** Runs redis-cli with `args` to its end (30 s at most) and resolves with its output; rejects with that output when it fails. */
async function redisCli(args: string[]): Promise<string> {
  const proc = startProcess('redis-cli', args);
  const ended = new Promise<string>((resolve) => {
    proc.child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
    proc.child.once('error', (err) => resolve(err.message));
  });
  const timer = setTimeout(() => void proc.stop('SIGKILL'), 30_000);
  const how = await ended;
  clearTimeout(timer);
  const out = proc.output().trim();
  if (how !== 'code 0') throw new Error(`redis-cli ${args.join(' ')} failed (${how}):\n${out}`);
  return out;
}

interface SlotEntry {
  first: number;
  last: number;
  master: number;
  replicas: number[];
}

async function clusterSlots(client: Redis): Promise<SlotEntry[]> {
  const raw = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number], ...[string, number][]][];
  return raw
    .map(([first, last, master, ...replicas]) => ({ first, last, master: Number(master[1]), replicas: replicas.map((r) => Number(r[1])).sort() }))
    .sort((a, b) => a.first - b.first);
}

function slotMap(entries: SlotEntry[]): ClusterMaster[] {
  const byMaster = new Map<number, [number, number][]>();
  for (const e of entries) byMaster.set(e.master, [...(byMaster.get(e.master) ?? []), [e.first, e.last]]);
  return [...byMaster].map(([port, slots]) => ({ port, slots }));
}

/** True when every node in `ports` says cluster_state:ok and reports the same slot map covering all 16384 slots. */
async function settled(ports: number[], admin: (port: number) => Redis): Promise<boolean> {
  const infos = await Promise.all(ports.map((p) => admin(p).call('CLUSTER', 'INFO') as Promise<string>));
  if (!infos.every((info) => /^cluster_state:ok\r?$/m.test(info))) return false;
  const maps = await Promise.all(ports.map(async (p) => JSON.stringify(await clusterSlots(admin(p)))));
  if (!maps.every((m) => m === maps[0])) return false;
  const entries = JSON.parse(maps[0]) as SlotEntry[];
  return entries.reduce((n, e) => n + e.last - e.first + 1, 0) === 16384;
}

/** True when every replica's replication link is up, so a failover (manual or after a crash) has a replica to promote. */
async function replicasLinked(ports: number[], admin: (port: number) => Redis): Promise<boolean> {
  const infos = await Promise.all(ports.map((p) => admin(p).info('replication')));
  const linked = infos.filter((i) => /^role:slave\r?$/m.test(i));
  return linked.length === ports.length / 2 && linked.every((i) => /^master_link_status:up\r?$/m.test(i));
}

function isRunning(proc: ServiceProcess | undefined): boolean {
  return !!proc && proc.child.exitCode === null && proc.child.signalCode === null;
}
