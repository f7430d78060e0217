import type { Redis } from 'ioredis';
import type { EventsConfig } from './config.ts';
import { createElasticsearchDocumentSearch, createElasticsearchEventStore } from './elasticsearch.ts';
import type { DocumentSearch, EventStore } from '../../engine/ports/event-store.ts';
import { createRedisStreamEventStore } from './redis-streams.ts';

export type { DocumentSearch, EventStore } from '../../engine/ports/event-store.ts';
export { createRemoteEventSource } from './remote-sse.ts';

/** Maps VEER_EVENTS_STORE to its implementation. */
export function createEventStore(config: EventsConfig, deps: { redis: Redis; prefix: string }): EventStore {
  if (config.store === 'elasticsearch') {
    return createElasticsearchEventStore({ ...config.elasticsearch, ...config.esTail });
  }
  return createRedisStreamEventStore({ redis: deps.redis, prefix: deps.prefix, maxLen: config.maxLen });
}

/** For Elasticsearch query triggers; created lazily by the client only when used. */
export function createDocumentSearch(config: EventsConfig): DocumentSearch & { close(): Promise<void> } {
  return createElasticsearchDocumentSearch(config.elasticsearch);
}
