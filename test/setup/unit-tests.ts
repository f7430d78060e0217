/**
 * `npm run test:unit`: the fast tier, the test files that need no system service. A file is in it
 * unless its imports, followed through test/, reach a service helper named in services.ts, or it
 * starts a service binary itself (`startProcess('redis-server', …)`). Chosen from the source on
 * every run, so a new test lands in the right tier with no list to keep; `--list` prints both tiers.
 * Extra arguments go to the test runner (e.g. `--test-name-pattern=…`).
 */
import { spawnSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { SERVICES } from './services.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HELPERS = new Set(SERVICES.map((s) => s.helper));
const BINARIES = SERVICES.flatMap((s) => ('binary' in s.needs ? [s.needs.binary] : []));
const STARTS_BINARY = new RegExp(`\\b(startProcess|spawn|spawnSync|execFile|execFileSync)\\(\\s*['"](${BINARIES.join('|')})['"]`);

/** Why `file` (repo-relative) needs a service — the import chain to a helper, or the binary it starts — or undefined. */
function serviceReason(file: string, seen: Map<string, string | undefined>): string | undefined {
  if (seen.has(file)) return seen.get(file);
  seen.set(file, undefined); // an import cycle adds nothing new
  let reason: string | undefined;
  if (HELPERS.has(file)) reason = file;
  else {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const started = STARTS_BINARY.exec(text);
    if (started) reason = `starts ${started[2]}`;
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (reason) break;
      if (!fileName.startsWith('.')) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(file), fileName));
      // Only test code starts services; product code never imports a test helper.
      if (!target.startsWith('test/')) continue;
      const inner = serviceReason(target, seen);
      if (inner) reason = inner === target ? target : `${target} → ${inner}`;
    }
  }
  seen.set(file, reason);
  return reason;
}

const files = globSync('test/**/*.test.ts', { cwd: ROOT }).sort();
const seen = new Map<string, string | undefined>();
const tiers = files.map((file) => ({ file, reason: serviceReason(file, seen) }));
const unit = tiers.filter((t) => !t.reason).map((t) => t.file);

if (process.argv.includes('--list')) {
  console.log(`unit tier (${unit.length}):\n${unit.map((f) => `  ${f}`).join('\n')}`);
  const full = tiers.filter((t) => t.reason);
  console.log(`needs services (${full.length}):\n${full.map((t) => `  ${t.file}  (${t.reason})`).join('\n')}`);
} else {
  const extra = process.argv.slice(2);
  const args = [
    '--no-node-snapshot',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=300000',
    '--import',
    './test/setup/exit-when-done.ts',
    ...extra,
    ...unit,
  ];
  process.exitCode = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' }).status ?? 1;
}
