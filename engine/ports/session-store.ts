/**
 * Dashboard sessions: a browser that logged in with an API token holds a random session id in
 * an httpOnly cookie; the store maps it to the token's name (never the secret), so the token's
 * scope is looked up afresh on every request and removing a token ends its sessions.
 *
 * Errors: `<STORE>.UNAVAILABLE` (retryable) when the backing store cannot be reached.
 */
export interface Session {
  /** The API token's name (api/auth.ts resolves its current scope and globs on each request). */
  tokenName: string;
  /** Sent back by the page in `x-veer-csrf` on every mutating request. */
  csrf: string;
  createdAt: string;
  expiresAt: string;
}

export interface SessionStore {
  /** Stores `session` under `id` until its `expiresAt`. */
  create(id: string, session: Session): Promise<void>;
  get(id: string): Promise<Session | undefined>;
  delete(id: string): Promise<void>;
}
