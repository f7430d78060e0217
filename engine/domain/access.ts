import { globMatches } from './glob.ts';

/**
 * Who may do what through the API. A token has one scope; each scope implies the ones before
 * it (`write` can also run and read). `admin` is what can reach the host itself (local
 * deployments run commands) or see the audit stream.
 */
export const SCOPES = ['read', 'run', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** The kinds of named resource a token's globs can be limited to (`workflows/shop-*`). */
export const RESOURCE_KINDS = ['workflows', 'gateways', 'deployments'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface ApiToken {
  /** What audit entries and refusals show; never the secret. */
  name: string;
  scope: Scope;
  /**
   * When present, the only resources this token may change or run: `shop-*` (any kind) or
   * `workflows/shop-*` (one kind). Reads are governed by the scope alone.
   */
  globs?: string[];
  /** The bearer secret. */
  token: string;
}

/** The caller of one request, once its token is checked (`anonymous` without tokens). */
export interface Principal {
  name: string;
  scope: Scope;
  globs?: string[];
}

/** With no tokens configured the API is open (and bound to loopback): everyone is this. */
export const ANONYMOUS: Principal = { name: 'anonymous', scope: 'admin' };

export function scopeCovers(has: Scope, needs: Scope): boolean {
  return SCOPES.indexOf(has) >= SCOPES.indexOf(needs);
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Caps that keep a glob cheap to match and to read (checked at start-up). */
export const GLOB_MAX_LENGTH = 128;
export const GLOB_MAX_WILDCARDS = 8;

/** Why a token glob is unusable, or undefined when it is fine. */
export function globProblem(glob: string): string | undefined {
  const slash = glob.indexOf('/');
  const kind = slash >= 0 ? glob.slice(0, slash) : undefined;
  const pattern = slash >= 0 ? glob.slice(slash + 1) : glob;
  if (kind !== undefined && !(RESOURCE_KINDS as readonly string[]).includes(kind)) return `'${kind}' is not one of ${RESOURCE_KINDS.join(', ')}`;
  if (glob.length > GLOB_MAX_LENGTH) return `longer than ${GLOB_MAX_LENGTH} characters`;
  if (!/^[a-z0-9*?-]+$/.test(pattern)) return 'a name glob has only lowercase letters, digits, dashes, * and ?';
  if ((pattern.match(/[*?]/g) ?? []).length > GLOB_MAX_WILDCARDS) return `more than ${GLOB_MAX_WILDCARDS} wildcards`;
  return undefined;
}

/** Whether a principal's globs (if any) allow it to act on `kind/name`. */
export function globsAllow(globs: string[] | undefined, kind: ResourceKind, name: string): boolean {
  if (globs === undefined) return true;
  return globs.some((g) => {
    const slash = g.indexOf('/');
    if (slash < 0) return globMatches(g, name);
    return g.slice(0, slash) === kind && globMatches(g.slice(slash + 1), name);
  });
}
