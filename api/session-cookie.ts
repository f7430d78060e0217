import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Session, SessionStore } from '../engine/ports/session-store.ts';

/** The dashboard's cookie: httpOnly (scripts on the page cannot read it), SameSite=Strict. */
export const SESSION_COOKIE = 'veer_session';
/** The header a session's mutating requests carry (double submit: the page learns it from GET /session). */
export const CSRF_HEADER = 'x-veer-csrf';

/** The session the request's cookie names, if the store still has it. */
export async function readSessionCookie(c: Context, store: SessionStore): Promise<{ id: string; session: Session } | undefined> {
  const id = getCookie(c, SESSION_COOKIE);
  // Ours are 43 characters; anything much longer is not worth a store lookup.
  if (!id || id.length > 100) return undefined;
  const session = await store.get(id);
  return session ? { id, session } : undefined;
}
