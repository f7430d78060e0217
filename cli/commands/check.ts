import { readFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { isMap, isScalar, LineCounter, parseAllDocuments, Scalar } from 'yaml';
// The one engine module the CLI loads (rule cli-talks-http-only): the API's own compiler, so a
// script that passes here passes the upload.
import { createScriptCompiler, type ScriptCompiler } from '../../engine/sandbox/script-compiler.ts';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';

/** A script to check and where to report its positions. */
interface Target {
  /** What `file: ok` names. */
  label: string;
  source: string;
  /** Maps a position in the script to the `file:line:column` printed. */
  at(line: number, column: number): string;
}

interface Issue {
  message: string;
  line?: number;
  column?: number;
}

/** A single line ending in .ts/.js/.mjs is a path relative to the manifest (as `veer apply` reads it). */
const SCRIPT_PATH = /^[^\n\r]+\.(ts|js|mjs)$/;
const MANIFEST = new Set(['.yaml', '.yml', '.json']);

/** The issues of a failed compile: a ValidationError's `details.issues` (matched by code: it crossed no boundary, but the CLI does not import the error classes). */
function issuesOf(err: unknown): Issue[] | undefined {
  const e = err as { code?: string; message?: string; details?: { issues?: Issue[] } };
  if (e.code !== 'VALIDATION') return undefined;
  return e.details?.issues?.length ? e.details.issues : [{ message: String(e.message) }];
}

const fileTarget = (label: string, source: string): Target => ({ label, source, at: (l, c) => `${label}:${l}:${c}` });

/** The Workflow documents of a manifest: each one's script, from its file or inline. */
async function manifestTargets(file: string): Promise<{ targets: Target[]; problems: string[] }> {
  const text = await readFile(file, 'utf8');
  const lines = new LineCounter();
  const targets: Target[] = [];
  const problems: string[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lines })) {
    if (!('errors' in doc)) continue;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      problems.push(`${file}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1}: ${e.message.split('\n', 1)[0]}`);
      continue;
    }
    if (!isMap(doc.contents) || doc.get('kind') !== 'Workflow') continue;
    const name = String(doc.get('name') ?? '(unnamed)');
    const node = doc.getIn(['spec', 'script'], true);
    if (!isScalar(node) || typeof node.value !== 'string') {
      problems.push(`${file}: workflow ${name}: spec.script is missing (the source, or a path to a .ts/.js/.mjs file next to the manifest)`);
      continue;
    }
    const script = node.value.trim();
    if (SCRIPT_PATH.test(script)) {
      const path = join(dirname(file), script);
      const label = relative('.', path) || path;
      try {
        targets.push(fileTarget(label, await readFile(path, 'utf8')));
      } catch {
        problems.push(`${file}: workflow ${name}: script file ${label} cannot be read`);
      }
      continue;
    }
    // Inline: a block scalar's line 1 is the line after its `|`, indented; others are reported relative to the field.
    const start = lines.linePos(node.range?.[0] ?? 0);
    const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
    const indent = block ? (/^( *)/.exec(text.split('\n')[start.line] ?? '')?.[1]?.length ?? 0) : 0;
    targets.push({
      label: `${file} (workflow ${name})`,
      source: node.value,
      at: (l, c) => (block ? `${file}:${start.line + l}:${c + indent}` : `${file}:${start.line}:${start.col} (script line ${l}, column ${c})`),
    });
  }
  return { targets, problems };
}

async function checkOne(compiler: ScriptCompiler, t: Target, ctx: CommandContext): Promise<boolean> {
  try {
    await compiler.compile(t.source);
    ctx.out(`${t.label}: ok`);
    return true;
  } catch (err) {
    const issues = issuesOf(err);
    if (!issues) {
      ctx.err(`${t.label}: ${(err as Error).message}`);
      return false;
    }
    for (const i of issues) ctx.out(`${t.at(i.line ?? 1, i.column ?? 1)}: ${i.message}`);
    return false;
  }
}

/** `veer check <file>…`: the API's script checks, run locally (no API needed). */
export function registerCheck(program: Command, ctx: CommandContext): void {
  program
    .command('check [files...]')
    .description("Check workflow scripts (or the scripts of Workflow manifests; default ./veer.yaml) with the API's own compiler, offline")
    .action(async (given: string[]) => {
      const files = given.length ? given : ['veer.yaml'];
      const compiler = createScriptCompiler();
      let failed = false;
      try {
        for (const file of files) {
          let targets: Target[];
          try {
            if (MANIFEST.has(extname(file).toLowerCase())) {
              const m = await manifestTargets(file);
              for (const p of m.problems) ctx.out(p);
              failed ||= m.problems.length > 0;
              targets = m.targets;
              if (!targets.length && !m.problems.length) ctx.out(`${file}: no Workflow documents`);
            } else targets = [fileTarget(file, await readFile(file, 'utf8'))];
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            ctx.out(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`}`);
            failed = true;
            continue;
          }
          for (const t of targets) if (!(await checkOne(compiler, t, ctx))) failed = true;
        }
      } finally {
        // The compile worker would otherwise keep the process alive until it idles out.
        await compiler.close();
      }
      if (failed) throw new CliError('some scripts did not pass', EXIT.failed);
    });
}
