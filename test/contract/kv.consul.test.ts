import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import { startConsulDouble } from '../doubles/consul.ts';
import { freePort } from '../helpers/free-port.ts';
import { runKvContract } from './kv.contract.ts';

/**
 * The Consul double (no Consul can run here) with ACLs enforced, as a production Consul has
 * them; set CONSUL_URL (+ CONSUL_TOKEN) to run against a real Consul.
 */
const DOUBLE_TOKEN = 'veer-contract';
runKvContract(process.env.CONSUL_URL ? 'consul' : 'consul (double)', async () => {
  const consul = process.env.CONSUL_URL ? { url: process.env.CONSUL_URL, stop: async () => {} } : await startConsulDouble({ token: DOUBLE_TOKEN });
  const token = process.env.CONSUL_URL ? process.env.CONSUL_TOKEN : DOUBLE_TOKEN;
  return {
    open: async (prefix) => createConsulKvStore({ url: consul.url, prefix, token }),
    openUnreachable: async () => createConsulKvStore({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 }),
    stop: () => consul.stop(),
  };
});
