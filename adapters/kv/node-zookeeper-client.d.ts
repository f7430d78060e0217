// The subset of node-zookeeper-client 1.1.3 (no bundled types) the ZooKeeper KV adapter uses.
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface Stat {
    czxid: Buffer;
    mzxid: Buffer;
    pzxid: Buffer;
    version: number;
    numChildren: number;
  }
  export interface Exception extends Error {
    code: number;
    name: string;
    getCode(): number;
  }
  export const Exception: {
    NO_NODE: number;
    NODE_EXISTS: number;
    BAD_VERSION: number;
    NOT_EMPTY: number;
    CONNECTION_LOSS: number;
    SESSION_EXPIRED: number;
  };
  export type Watcher = (event: { type: number; name: string; path: string }) => void;
  type Cb<T extends unknown[]> = (error: Exception | Error | null, ...results: T) => void;

  export interface Transaction {
    create(path: string, data?: Buffer | null): Transaction;
    setData(path: string, data: Buffer | null, version?: number): Transaction;
    check(path: string, version?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    commit(callback: Cb<[Array<{ type: number; stat?: Stat; path?: string }>]>): void;
  }

  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getState(): { name: string; code: number };
    create(path: string, data: Buffer | null | undefined, callback: Cb<[string]>): void;
    getData(path: string, watcher: Watcher | undefined, callback: Cb<[Buffer | undefined, Stat]>): void;
    setData(path: string, data: Buffer | null, version: number, callback: Cb<[Stat]>): void;
    getChildren(path: string, watcher: Watcher | undefined, callback: Cb<[string[], Stat]>): void;
    exists(path: string, watcher: Watcher | undefined, callback: Cb<[Stat | null]>): void;
    remove(path: string, version: number, callback: Cb<[]>): void;
    transaction(): Transaction;
  }

  export function createClient(connectionString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;
}
