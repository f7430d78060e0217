import { globProblem, isScope, SCOPES, type ApiToken } from './access.ts';

/**
 * API tokens from configuration. `VEER_API_TOKENS` (comma-separated secrets) keeps its old
 * meaning: each is an `admin` token, named `env-token-<n>` by position so that audit entries
 * never show the secret. `VEER_API_TOKENS_FILE` holds one token a line:
 *
 *     # name:scope:token  or  name:scope:glob,glob:token
 *     deployer:write:shop-*,gateways/shop:3c1f…
 *     viewer:read:9a0b…
 *
 * The token is everything after the last field it needs, so a secret may contain `:` when the
 * globs field is given (it may be empty: `ci:run::to:ken`). Every problem is reported with
 * its line, and start-up stops.
 */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export class TokenConfigError extends Error {
  override name = 'TokenConfigError';
}

export function tokensFromList(list: string): ApiToken[] {
  return list
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((token, i) => ({ name: `env-token-${i + 1}`, scope: 'admin', token }));
}

export function parseTokenFile(text: string, source: string): ApiToken[] {
  const tokens: ApiToken[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source} line ${i + 1}`;
    const parts = line.split(':');
    if (parts.length < 3) throw new TokenConfigError(`${where}: expected name:scope:token or name:scope:glob,glob:token`);
    const [name, scope] = parts;
    const withGlobs = parts.length > 3;
    const token = parts.slice(withGlobs ? 3 : 2).join(':');
    if (!NAME.test(name)) throw new TokenConfigError(`${where}: name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`);
    if (!isScope(scope)) throw new TokenConfigError(`${where}: scope '${scope}' is not one of ${SCOPES.join(', ')}`);
    if (token === '') throw new TokenConfigError(`${where}: the token is empty`);
    const globs = withGlobs
      ? parts[2]
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean)
      : [];
    for (const g of globs) {
      const problem = globProblem(g);
      if (problem) throw new TokenConfigError(`${where}: glob '${g}': ${problem}`);
    }
    tokens.push({ name, scope, token, ...(globs.length ? { globs } : {}) });
  }
  return tokens;
}

/** Names and secrets must each be unique: a secret shared by two names would have no single identity. */
export function checkUnique(tokens: ApiToken[]): void {
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const t of tokens) {
    if (names.has(t.name)) throw new TokenConfigError(`token name '${t.name}' is used twice`);
    if (secrets.has(t.token)) throw new TokenConfigError(`token '${t.name}' has the same secret as another token`);
    names.add(t.name);
    secrets.add(t.token);
  }
}
