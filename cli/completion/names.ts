import { configPath, readCliConfig } from '../connection.ts';
import type { CommandContext } from '../context.ts';
import { KINDS } from '../resources.ts';
import type { NameLookup } from './candidates.ts';

/** A TAB must not hang on an API that does not answer: past this, it offers nothing. */
const LOOKUP_TIMEOUT_MS = 2_000;

/** The kinds whose objects are listed by `GET /api/v1/<kind>` as `{ <kind>: [{ name }] }`. */
const LISTED = new Set(['workflows', 'gateways', 'deployments', 'notifiers', 'secrets']);

/**
 * Object names for completion, from the API (with a deadline) and the contexts file. Every
 * failure — unreachable API, refused token, unknown kind — answers no names: a completion
 * never prints an error into the user's command line.
 */
export function nameLookup(ctx: CommandContext): NameLookup {
  return {
    kinds: KINDS,
    async names(kindWord) {
      const kind = KINDS.find((k) => k.aliases.includes(kindWord.toLowerCase()));
      if (!kind || !LISTED.has(kind.name)) return [];
      try {
        const client = await ctx.client();
        // Each listed kind has the same shape; the generated client types them one by one.
        const path = `/api/v1/${kind.name}` as '/api/v1/workflows';
        const res = await client.GET(path, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
        const list = (res.data as Record<string, Array<{ name?: unknown }>> | undefined)?.[kind.name] ?? [];
        return list.map((o) => o.name).filter((n): n is string => typeof n === 'string');
      } catch {
        return [];
      }
    },
    async contexts() {
      try {
        return (await readCliConfig(configPath(ctx.env))).contexts.map((c) => c.name);
      } catch {
        return [];
      }
    },
  };
}
