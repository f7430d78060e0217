/**
 * Set-up for the whole suite (`npm test`'s pretest, and .ci/run): every service in services.ts
 * must be installed. When some are missing and this is root on Debian (apt-get present, as in
 * CI) it installs them — `apt-get update` once, then one `apt-get install`; otherwise it fails
 * at once, naming each missing service and the one command that installs them, instead of
 * letting a test file wait for a server that cannot start.
 */
import { spawnSync } from 'node:child_process';
import { findExecutable, installCommand, locate, SERVICES, type TestService } from './services.ts';

export interface CheckOptions {
  /** Install what is missing when possible (root and apt-get). Default true. */
  install?: boolean;
  log?: (line: string) => void;
}

const describe = (s: TestService) => `${s.name} (${'binary' in s.needs ? s.needs.binary : s.needs.file})`;

/** True when every service is there, after installing the missing ones if allowed and possible. */
export function ensureServices(services: readonly TestService[] = SERVICES, options: CheckOptions = {}): boolean {
  const log = options.log ?? ((line: string) => console.error(line));
  let missing = services.filter((s) => !locate(s));
  if (missing.length === 0) return true;
  const canInstall = (options.install ?? true) && process.getuid?.() === 0 && findExecutable('apt-get') !== undefined;
  if (canInstall) {
    const packages = [...new Set(missing.map((s) => s.debian))];
    log(`test services missing: ${missing.map(describe).join(', ')}; installing Debian packages: ${packages.join(' ')}`);
    const apt = (args: string[]) =>
      spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
    if (!apt(['update', '-q']) || !apt(['install', '-y', '-q', ...packages])) log('apt-get failed (output above)');
    missing = services.filter((s) => !locate(s));
    if (missing.length === 0) return true;
  }
  log(`the test suite needs services that are not installed:\n${missing.map((s) => `  - ${describe(s)}`).join('\n')}`);
  log(`install them with:\n  ${installCommand(missing)}`);
  if (findExecutable('apt-get') === undefined) log('(those are Debian/Ubuntu package names; elsewhere, install the same services and put them on PATH)');
  return false;
}

if (import.meta.main) {
  // `--no-install`: only report (e.g. on a machine where apt-get must not run).
  if (!ensureServices(SERVICES, { install: !process.argv.includes('--no-install') })) process.exitCode = 1;
}
