import type { VeerEvent } from './types.ts';

/** Event ids are the store's append order (Redis stream ids `ms-n`); other shapes compare as text. */
export function compareIds(a: string, b: string): number {
  const ma = /^(\d+)-(\d+)$/.exec(a);
  const mb = /^(\d+)-(\d+)$/.exec(b);
  if (ma && mb) return Number(ma[1]) - Number(mb[1]) || Number(ma[2]) - Number(mb[2]);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `list` and `more` as one list, newest first, each id once, at most `cap` long. */
export function mergeNewestFirst(list: VeerEvent[], more: VeerEvent[], cap: number): VeerEvent[] {
  const seen = new Set(list.map((e) => e.id));
  const fresh = more.filter((e) => !seen.has(e.id) && seen.add(e.id));
  if (fresh.length === 0) return list;
  return [...fresh, ...list].sort((a, b) => compareIds(b.id, a.id)).slice(0, cap);
}

/** `tag=a&tag=b&type=t`: tags separated by commas or spaces, each one a repeat of `tag`. */
export function eventQuery(tags: string, type: string): URLSearchParams {
  const q = new URLSearchParams();
  for (const t of tagList(tags)) q.append('tag', t);
  if (type.trim()) q.set('type', type.trim());
  return q;
}

export function tagList(tags: string): string[] {
  return tags
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
}
