import { Client } from '@elastic/elasticsearch';

export interface ElasticsearchConnection {
  /** Injected client (tests); otherwise one is created from `url`. */
  client?: Client;
  url?: string;
  apiKey?: string;
  username?: string;
  password?: string;
}

/** A store's client and its `close()`: an injected client belongs to the caller and stays open. */
export function connectElasticsearch(c: ElasticsearchConnection): { client: Client; close(): Promise<void> } {
  if (c.client) return { client: c.client, close: async () => undefined };
  const client = new Client({
    node: c.url ?? 'http://127.0.0.1:9200',
    ...(c.apiKey ? { auth: { apiKey: c.apiKey } } : c.username ? { auth: { username: c.username, password: c.password ?? '' } } : {}),
    requestTimeout: 30_000,
  });
  return { client, close: () => client.close() };
}
