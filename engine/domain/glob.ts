/**
 * `shop-*` style name globs, used by workflow permissions: `*` is any run of characters,
 * `?` exactly one, everything else literal. Matched by the classic two-pointer walk with
 * one backtrack point — O(pattern × name) in the worst case, never exponential — because
 * patterns come from users and a backtracking RegExp (`a*a*a*…b`) would block the process.
 */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const c = pattern[p];
    if (p < pattern.length && (c === '?' || (c !== '*' && c === name[n]))) {
      p++;
      n++;
    } else if (p < pattern.length && c === '*') {
      // Remember the star; first try matching it with nothing.
      star = p++;
      resume = n;
    } else if (star >= 0) {
      // Let the last star swallow one more character and retry from there.
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether a pattern has wildcards (a plain name matches only itself). */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}
