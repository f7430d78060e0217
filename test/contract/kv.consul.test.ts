import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import { startConsulDouble } from '../doubles/consul.ts';
import { freePort } from '../helpers/free-port.ts';
import { runKvContract } from './kv.contract.ts';

/** The Consul double (no Consul can run here); set CONSUL_URL to run against a real Consul. */
runKvContract(process.env.CONSUL_URL ? 'consul' : 'consul (double)', async () => {
  const consul = process.env.CONSUL_URL ? { url: process.env.CONSUL_URL, stop: async () => {} } : await startConsulDouble();
  return {
    open: async (prefix) => createConsulKvStore({ url: consul.url, prefix, token: process.env.CONSUL_TOKEN }),
    openUnreachable: async () => createConsulKvStore({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 }),
    stop: () => consul.stop(),
  };
});
