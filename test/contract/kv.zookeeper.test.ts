import { createZookeeperKvStore } from '../../adapters/kv/zookeeper.ts';
import { startZookeeper } from '../helpers/zookeeper-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { runKvContract } from './kv.contract.ts';

/** A real ZooKeeper; set ZK_URL (host:port) to run against an existing one instead. */
runKvContract('zookeeper', async () => {
  const zk = process.env.ZK_URL ? { url: process.env.ZK_URL, stop: async () => {} } : await startZookeeper();
  return {
    open: async (prefix) => createZookeeperKvStore({ url: zk.url, prefix }),
    openUnreachable: async () => createZookeeperKvStore({ url: `127.0.0.1:${await freePort()}`, timeoutMs: 500 }),
    stop: () => zk.stop(),
  };
});
