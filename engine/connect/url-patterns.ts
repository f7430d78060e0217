/**
 * `permissions.http` patterns: a URL is allowed when one pattern matches its whole normalised
 * form (`new URL(u).href`), `*` standing for any run of characters (nothing else is special,
 * so `?` in a query is itself). Matching is greedy leftmost per literal part, linear in the
 * URL for each pattern. End a host with `/` (`https://hooks.slack.com/*`), or
 * `https://hooks.slack.com*` would also allow `https://hooks.slack.com.evil.example/`.
 */
export function urlPatternMatches(pattern: string, url: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === url;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (!url.startsWith(first) || url.length < first.length + last.length || !url.endsWith(last)) return false;
  let at = first.length;
  const end = url.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = url.indexOf(parts[i], at);
    if (found < 0 || found + parts[i].length > end) return false;
    at = found + parts[i].length;
  }
  return true;
}

/**
 * A pattern that allows `url`, if any: one naming its host literally when there is one (the
 * egress guard lets only those reach link-local and metadata hosts, so `http://*` listed first
 * must not hide `http://169.254.169.254/*` listed after it), else the first.
 */
export function allowingPattern(patterns: readonly string[], url: string): string | undefined {
  const matching = patterns.filter((p) => urlPatternMatches(p, url));
  const host = new URL(url).hostname.toLowerCase();
  return matching.find((p) => literalHost(p) === host) ?? matching[0];
}

/** The host a pattern names literally (no `*` in scheme://host[:port]), lower-cased; undefined when its host is a wildcard. */
export function literalHost(pattern: string): string | undefined {
  const m = /^https?:\/\/([^/]*)/i.exec(pattern);
  if (!m || m[1].includes('*')) return undefined;
  try {
    return new URL(`http://${m[1]}/`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** What may be written down of a URL: without its query and fragment (tokens live there), credentials already refused. */
export function loggableUrl(url: URL | string): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
}
