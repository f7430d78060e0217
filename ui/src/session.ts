import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, call, onUnauthorized, setCsrf } from './api.ts';

export type Scope = 'read' | 'run' | 'write' | 'admin';
const SCOPES: Scope[] = ['read', 'run', 'write', 'admin'];

export interface Me {
  name: string;
  scope: Scope;
  globs?: string[];
  via: 'open' | 'bearer' | 'session';
  expiresAt?: string;
}

/** undefined while loading, null when logged out. */
let me: Me | null | undefined;
const listeners = new Set<() => void>();
function set(next: Me | null): void {
  me = next;
  for (const l of listeners) l();
}

/** Who the page acts as; re-renders on login and logout. */
export function useMe(): Me | null | undefined {
  const [, tick] = useState(0);
  useEffect(() => {
    const l = () => tick((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return me;
}

/**
 * Whether the caller's scope covers `needs`, and (with token globs) the resource: the page hides
 * what the API would refuse. The API still decides: a hidden button is a courtesy, not the check.
 */
export function can(who: Me | null | undefined, needs: Scope, resource?: { kind: 'workflows' | 'gateways' | 'deployments'; name: string }): boolean {
  if (!who || SCOPES.indexOf(who.scope) < SCOPES.indexOf(needs)) return false;
  if (!resource || !who.globs || needs === 'read') return true;
  return who.globs.some((g) => {
    const [kind, pattern] = g.includes('/') ? (g.split('/', 2) as [string, string]) : [resource.kind, g];
    if (kind !== resource.kind) return false;
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    return re.test(resource.name);
  });
}

export async function loadSession(): Promise<void> {
  try {
    const s = await call(api.GET('/api/v1/session'));
    setCsrf(s.csrf);
    set(s as Me);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrf(undefined);
      set(null);
    } else throw err;
  }
}

export async function login(token: string): Promise<void> {
  const s = await call(api.POST('/api/v1/session', { body: { token } }));
  setCsrf(s.csrf);
  set(s as Me);
}

export async function logout(): Promise<void> {
  await call(api.DELETE('/api/v1/session')).catch(() => undefined);
  setCsrf(undefined);
  set(null);
}

onUnauthorized(() => {
  if (me) {
    setCsrf(undefined);
    set(null);
  }
});
