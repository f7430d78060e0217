import { createEtcdKvStore } from '../../adapters/kv/etcd.ts';
import { startEtcd } from '../helpers/etcd-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { runKvContract } from './kv.contract.ts';

/** A real etcd; set ETCD_URL to run against an existing one instead. */
runKvContract('etcd', async () => {
  const etcd = process.env.ETCD_URL ? { url: process.env.ETCD_URL, stop: async () => {} } : await startEtcd();
  return {
    open: async (prefix) => createEtcdKvStore({ url: etcd.url, prefix }),
    openUnreachable: async () => createEtcdKvStore({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 }),
    stop: () => etcd.stop(),
  };
});
