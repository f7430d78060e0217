import { createMemoryKv } from '../gateways/memory-kv.ts';
import { runKvContract } from './kv.contract.ts';

/**
 * The in-memory double the gateway unit tests use, held to the same contract as the real
 * stores. Every `open` is a fresh store (the double has no shared server); "unreachable" is
 * the double's `failing` switch.
 */
runKvContract('memory (test double)', async () => ({
  open: async () => createMemoryKv(),
  openUnreachable: async () => Object.assign(createMemoryKv(), { failing: true }),
  stop: async () => {},
}));
