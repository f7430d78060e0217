import type { Redis } from 'ioredis';
import type { DocumentSearch, DocumentSearchRequest, EventStore } from '../../engine/ports/event-store.ts';
import type { TriggerState } from '../../engine/ports/trigger-state.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import type { EventsConfig } from './config.ts';
import type { RemoteEventSource, RemoteEventSourceOptions } from './remote-sse.ts';

export type { DocumentSearch, EventStore } from '../../engine/ports/event-store.ts';
export type { RemoteEventSource } from './remote-sse.ts';

/**
 * Maps VEER_EVENTS_STORE to its implementation. Vendor clients are imported only when
 * configured, so a process on the Redis defaults never loads the Elasticsearch client.
 */
export async function createEventStore(config: EventsConfig, deps: { redis: Redis; prefix: string }): Promise<EventStore> {
  if (config.store === 'elasticsearch') {
    const { createElasticsearchEventStore } = await import('./elasticsearch.ts');
    return createElasticsearchEventStore({ ...config.elasticsearch, ...config.esTail });
  }
  const { createRedisStreamEventStore } = await import('./redis-streams.ts');
  return createRedisStreamEventStore({ redis: deps.redis, prefix: deps.prefix, maxLen: config.maxLen });
}

/**
 * For Elasticsearch query triggers. The client (and its library) is loaded on the first
 * search, so engines whose workflows have no such trigger never load it.
 */
export function createDocumentSearch(config: EventsConfig): DocumentSearch & { close(): Promise<void> } {
  let impl: Promise<DocumentSearch & { close(): Promise<void> }> | undefined;
  const load = () => (impl ??= import('./elasticsearch.ts').then((m) => m.createElasticsearchDocumentSearch(config.elasticsearch)));
  return {
    search: async (req: DocumentSearchRequest) => (await load()).search(req),
    async close() {
      if (impl) await (await impl).close();
    },
  };
}

/** One follower per VEER_EVENTS_REMOTE_URLS entry (none: the SSE client is never loaded). */
export async function createRemoteEventSources(
  config: EventsConfig,
  deps: { emit: RemoteEventSourceOptions['emit']; positions: TriggerState['remote']; logger: Logger },
): Promise<RemoteEventSource[]> {
  if (config.remote.urls.length === 0) return [];
  const { createRemoteEventSource } = await import('./remote-sse.ts');
  return config.remote.urls.map((url) => createRemoteEventSource({ url, token: config.remote.token, ...deps }));
}
