import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, type Document as YamlDocument, type Node } from 'yaml';
import { CliError, EXIT } from '../errors.ts';

/** One manifest document as read from a file, before any check of its shape. */
export interface SourceDoc {
  /** The file as given relative to the cwd (what messages and `veer.io/source` name). */
  file: string;
  /** The directory of the file (absolute): script and valueFrom.file paths are relative to it. */
  dir: string;
  /** 1-based: the n-th document of the file (the n-th element of a JSON array). */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  value: unknown;
  /** The line of the node at a field path (`['spec','trigger','cron']`), or of its nearest parent. */
  lineOf(path: Array<string | number>): number;
  /** For an inline block-scalar (`|`) value: the manifest line of the value's first line. */
  blockStart(path: Array<string | number>): number | undefined;
}

/** A problem found while loading: printed with the others, before anything is sent. */
export interface LoadProblem {
  file: string;
  index: number;
  line?: number;
  message: string;
}

const MANIFEST = /\.(ya?ml|json)$/i;
/**
 * Files a project directory holds beside its manifests (`veer init` writes a tsconfig.json), and
 * folders nobody keeps manifests in: skipped when reading a directory, read when named with -f.
 */
const NOT_MANIFESTS = new Set(['tsconfig.json', 'jsconfig.json', 'package.json', 'package-lock.json']);
const SKIPPED_DIRS = /(^|[\\/])(node_modules|\.[^\\/]+)([\\/]|$)/;

/** Every manifest file under each path (a file, or a directory read recursively), sorted. */
async function manifestFiles(path: string, cwd: string): Promise<string[]> {
  const abs = resolve(cwd, path);
  const st = await stat(abs).catch(() => undefined);
  if (!st) throw new CliError(`-f ${path}: no such file or directory`, EXIT.usage);
  if (st.isFile()) return [abs];
  const entries = await readdir(abs, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && MANIFEST.test(e.name) && !NOT_MANIFESTS.has(e.name) && !e.name.startsWith('.'))
    .filter((e) => !SKIPPED_DIRS.test(relative(abs, e.parentPath)))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function docsOf(file: string, dir: string, doc: YamlDocument.Parsed, lc: LineCounter): SourceDoc[] {
  const lineAt = (offset: number) => lc.linePos(offset).line;
  const nodeAt = (base: Node | null | undefined, path: Array<string | number>) => {
    // The deepest node on the path that exists: a missing field points at its parent.
    let node: unknown = base;
    let found = base;
    for (const key of path) {
      if (isMap(node) || isSeq(node)) node = node.get(key, true);
      else break;
      if (!isNode(node)) break;
      found = node;
    }
    return found ?? undefined;
  };
  const make = (root: Node | null, index: number): SourceDoc => {
    const start = root?.range?.[0] ?? doc.range[0];
    return {
      file,
      dir,
      index,
      line: lineAt(start),
      value: root ? root.toJSON() : null,
      lineOf: (path) => {
        const n = nodeAt(root, path);
        // A map entry's value starts after its key; the key's line is what an editor shows.
        return n?.range ? lineAt(n.range[0]) : lineAt(start);
      },
      blockStart: (path) => {
        const n = nodeAt(root, path);
        if (!isScalar(n) || n.type !== 'BLOCK_LITERAL' || !n.range) return undefined;
        // The scalar's range starts at its `|` indicator; the text begins on the next line.
        return lineAt(n.range[0]) + 1;
      },
    };
  };
  const contents = doc.contents;
  // A JSON file (or YAML document) holding an array: each element is a document.
  if (isSeq(contents)) return contents.items.map((item, i) => make(isNode(item) ? item : null, i + 1));
  return [make(contents, 0)];
}

/**
 * Reads every manifest: YAML (multi-document, `---`) and JSON (one object or an array of them).
 * Parse errors are collected, not thrown, so one run reports every broken file at once.
 */
export async function loadManifests(paths: string[], cwd: string): Promise<{ docs: SourceDoc[]; problems: LoadProblem[] }> {
  const docs: SourceDoc[] = [];
  const problems: LoadProblem[] = [];
  const files = [...new Set((await Promise.all(paths.map((p) => manifestFiles(p, cwd)))).flat())];
  if (files.length === 0) throw new CliError(`-f ${paths.join(', ')}: no *.yaml, *.yml or *.json files`, EXIT.usage);
  for (const abs of files) {
    const file = relative(cwd, abs) || abs;
    const text = await readFile(abs, 'utf8');
    const lc = new LineCounter();
    const parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: true });
    const list = Array.isArray(parsed) ? parsed : [];
    let index = 0;
    for (const doc of list) {
      if (doc.errors.length) {
        for (const e of doc.errors)
          problems.push({ file, index: index + 1, line: e.linePos?.[0]?.line, message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
        index++;
        continue;
      }
      // Empty documents (a trailing `---`, comments only) are skipped but keep the numbering.
      if (doc.contents === null) {
        index++;
        continue;
      }
      const found = docsOf(file, dirname(abs), doc, lc);
      if (found.length === 1 && found[0]!.index === 0) docs.push({ ...found[0]!, index: ++index });
      else {
        docs.push(...found);
        index++;
      }
    }
  }
  return { docs, problems };
}
