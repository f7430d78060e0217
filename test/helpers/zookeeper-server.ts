import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { requireInstalled, ZOOKEEPER_JAR } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, whenReady } from './process.ts';

export interface TestZookeeper {
  /** host:port connection string. */
  url: string;
  port: number;
  /** Stops the server and removes its data directory. */
  stop: () => Promise<void>;
}

/**
 * Starts a private standalone ZooKeeper (the Debian jar) on a free loopback port with a temp
 * data dir; the admin (Jetty) server is off so no other port opens (services.md §1.3). Fails at
 * once, naming java or the jar, when either is missing or the server exits instead of serving.
 */
export async function startZookeeper(): Promise<TestZookeeper> {
  requireInstalled('java');
  // Without the jar, java would start and exit with a ClassNotFoundException: say what is missing instead.
  requireInstalled(ZOOKEEPER_JAR);
  const port = await freePort();
  const dir = await tempDir('zk');
  const cfg = join(dir.path, 'zoo.cfg');
  await writeFile(
    cfg,
    [
      'tickTime=2000',
      `dataDir=${join(dir.path, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr',
      '',
    ].join('\n'),
  );
  const proc = startProcess('java', ['-Xmx256m', '-cp', ZOOKEEPER_JAR, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg]);
  const stop = await whenReady(proc, dir, async () => (await fourLetter(port, 'ruok')) === 'imok', {
    timeoutMs: 30_000,
    intervalMs: 25,
    what: `zookeeper on ${port}`,
  });
  return { url: `127.0.0.1:${port}`, port, stop };
}

/** Sends a four-letter-word command and returns the reply ('' when it cannot connect). */
function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(word));
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('data', (b) => (reply += b.toString()));
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(reply.trim()));
  });
}
