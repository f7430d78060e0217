import { connect } from 'node:net';
import { VeerError } from '../../engine/shared/errors.ts';

/**
 * HAProxy runtime API over the admin unix socket: one connection per batch of commands
 * (joined with ';'), answered and closed by HAProxy. Used for weight changes and for adding and
 * removing route servers (dynamic servers), which take effect immediately without a reload.
 */
export interface RuntimeApi {
  /** Sends the commands in one round trip; returns HAProxy's raw answer. */
  send(commands: string[], timeoutMs?: number): Promise<string>;
  /** `set server <backend>/<server> weight N` for each entry; throws naming any command HAProxy refused. */
  setWeights(changes: Array<{ backend: string; server: string; weight: number }>): Promise<void>;
  getWeight(backend: string, server: string): Promise<number>;
  /** `add server` (HAProxy starts it in maintenance), `enable health` when checked, then `enable server`. */
  addServer(backend: string, server: string, address: string, options: string[]): Promise<void>;
  /** `disable server`: maintenance, so no new request goes there; requests in flight finish. */
  disableServer(backend: string, server: string): Promise<void>;
  /** `del server` of a server in maintenance: 'busy' while it still has connections (try again later). */
  deleteServer(backend: string, server: string): Promise<'deleted' | 'busy'>;
  /** Connections to one server (`show servers conn`): in use, and idle in the reuse pool; undefined if not listed. */
  serverConnections(backend: string, server: string): Promise<{ used: number; idle: number } | undefined>;
  /**
   * Closes a server's idle (reusable) connections by moving it to another port with
   * `set server … addr … port …` (HAProxy drops idle connections to an old address). Only for
   * a server in maintenance with no connection in use: it is about to be deleted.
   */
  dropIdleConnections(backend: string, server: string, host: string, port: number): Promise<void>;
}

export function createRuntimeApi(socketPath: string): RuntimeApi {
  const send = (commands: string[], timeoutMs = 5000) =>
    new Promise<string>((resolve, reject) => {
      const sock = connect(socketPath);
      let out = '';
      const timer = setTimeout(() => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      sock.setEncoding('utf8');
      sock.on('connect', () => sock.end(commands.join(';') + '\n'));
      sock.on('data', (d: string) => (out += d));
      sock.on('error', (err) => {
        clearTimeout(timer);
        reject(new VeerError('GATEWAY.HAPROXY_UNAVAILABLE', `HAProxy runtime API at ${socketPath}: ${err.message}`, { retryable: true, cause: err }));
      });
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });

  return {
    send,
    async setWeights(changes) {
      if (changes.length === 0) return;
      for (const c of changes) {
        if (!Number.isInteger(c.weight) || c.weight < 0 || c.weight > 256)
          throw new VeerError('GATEWAY.INVALID', `weight ${c.weight} for ${c.backend}/${c.server} is outside HAProxy's 0-256`);
      }
      const answer = (await send(changes.map((c) => `set server ${c.backend}/${c.server} weight ${c.weight}`))).trim();
      // Success is silent; anything else is an error message (e.g. "No such server.").
      if (answer) throw new VeerError('GATEWAY.RUNTIME_API', `HAProxy refused a weight change: ${answer}`);
    },
    async addServer(backend, server, address, options) {
      const id = `${backend}/${server}`;
      const added = (await send([`add server ${id} ${address} ${options.join(' ')}`.trimEnd()])).trim();
      if (!/^New server registered/.test(added)) throw new VeerError('GATEWAY.RUNTIME_API', `HAProxy refused add server ${id}: ${added}`);
      const enable = options.some((o) => o === 'check') ? [`enable health ${id}`, `enable server ${id}`] : [`enable server ${id}`];
      for (const command of enable) {
        const answer = (await send([command])).trim();
        if (answer) throw new VeerError('GATEWAY.RUNTIME_API', `HAProxy refused ${command}: ${answer}`);
      }
    },
    async disableServer(backend, server) {
      const answer = (await send([`disable server ${backend}/${server}`])).trim();
      if (answer) throw new VeerError('GATEWAY.RUNTIME_API', `HAProxy refused disable server ${backend}/${server}: ${answer}`);
    },
    async deleteServer(backend, server) {
      const answer = (await send([`del server ${backend}/${server}`])).trim();
      if (/^Server deleted/.test(answer)) return 'deleted';
      // "Server still has connections attached to it, cannot remove it."
      if (/still has connections/i.test(answer)) return 'busy';
      throw new VeerError('GATEWAY.RUNTIME_API', `HAProxy refused del server ${backend}/${server}: ${answer}`);
    },
    async serverConnections(backend, server) {
      const answer = await send([`show servers conn ${backend}`]);
      // # bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur …
      const header =
        answer
          .split('\n')
          .find((l) => l.startsWith('#'))
          ?.slice(1)
          .trim()
          .split(/\s+/) ?? [];
      const line = answer.split('\n').find((l) => l.startsWith(`${backend}/${server} `));
      if (!line) return undefined;
      const f = line.trim().split(/\s+/);
      const col = (name: string) => Number(f[header.indexOf(name)]);
      const used = col('used_cur');
      const idle = col('idle_cur');
      if (!Number.isFinite(used) || !Number.isFinite(idle)) throw new VeerError('GATEWAY.RUNTIME_API', `unexpected show servers conn answer: ${answer.trim()}`);
      return { used, idle };
    },
    async dropIdleConnections(backend, server, host, port) {
      const answer = (await send([`set server ${backend}/${server} addr ${host} port ${port === 1 ? 2 : 1}`])).trim();
      if (!/changed/.test(answer)) throw new VeerError('GATEWAY.RUNTIME_API', `HAProxy refused to move ${backend}/${server}: ${answer}`);
    },
    async getWeight(backend, server) {
      const answer = (await send([`get weight ${backend}/${server}`])).trim();
      const m = /^(\d+)/.exec(answer);
      if (!m) throw new VeerError('GATEWAY.RUNTIME_API', `get weight ${backend}/${server}: ${answer}`);
      return Number(m[1]);
    },
  };
}
