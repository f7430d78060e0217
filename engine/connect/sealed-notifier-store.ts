import type { Notifier, NotifierStore } from '../ports/notifier-store.ts';
import type { SealedValue } from '../ports/secret-store.ts';
import { open, seal } from './secret-box.ts';

const SEALED = 'veer-sealed:';

/**
 * Notifier signing secrets at rest: sealed like secrets (AES-256-GCM under VEER_SECRETS_KEY,
 * the notifier's name as authenticated data) when a key is set, opened again for the delivery
 * worker and the routes (which only ever say `hasSecret`). Without a key they are stored as
 * given: signing needs the value, and refusing notifiers without a key would be worse.
 */
export function sealingNotifierStore(store: NotifierStore, keys: { key?: Buffer; previousKey?: Buffer }): NotifierStore {
  const key = keys.key;
  if (!key) return store;
  const all = [key, keys.previousKey].filter((k): k is Buffer => k !== undefined);
  const aad = (name: string) => `notifier:${name}`;
  const opened = (n: Notifier): Notifier =>
    n.secret?.startsWith(SEALED) ? { ...n, secret: open(aad(n.name), JSON.parse(n.secret.slice(SEALED.length)) as SealedValue, all) } : n;
  return {
    ...store,
    async put(name, spec, now, start) {
      const sealed = spec.secret === undefined ? spec : { ...spec, secret: SEALED + JSON.stringify(seal(aad(name), spec.secret, key)) };
      const r = await store.put(name, sealed, now, start);
      return { ...r, notifier: { ...r.notifier, secret: spec.secret } };
    },
    get: async (name) => {
      const n = await store.get(name);
      return n && opened(n);
    },
    list: async () => (await store.list()).map(opened),
  };
}
