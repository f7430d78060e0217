import { diffLines } from 'diff';

/** A line diff as text, each line marked `+ `, `- ` or `  ` (the marks, not colour, carry the meaning). */
export function diffText(before: string, after: string): { text: string; added: number; removed: number } {
  const out: string[] = [];
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    const mark = part.added ? '+ ' : part.removed ? '- ' : '  ';
    const lines = part.value.replace(/\n$/, '').split('\n');
    if (part.added) added += lines.length;
    if (part.removed) removed += lines.length;
    for (const line of lines) out.push(mark + line);
  }
  return { text: out.join('\n'), added, removed };
}
