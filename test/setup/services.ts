import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The system services the test suite starts, in one list: `npm test`'s pretest check
 * (check-services.ts), `.ci/run`, the service helpers' "not installed" errors and the choice of
 * the fast tier (unit-tests.ts) all read it, so adding a service is one entry here.
 */
export interface TestService {
  /** What the suite calls it in messages. */
  name: string;
  /** How to tell it is installed: an executable on PATH (or in `dirs`), or a file. */
  needs: { binary: string; dirs?: string[] } | { file: string };
  /** The Debian package that installs it. */
  debian: string;
  /** The test helper that starts it; a test reaching this helper needs the service. */
  helper: string;
}

/** Debian's zookeeper package puts the server's classes here; the helper runs them with java. */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

export const SERVICES: readonly TestService[] = [
  { name: 'Redis', needs: { binary: 'redis-server' }, debian: 'redis-server', helper: 'test/helpers/redis-server.ts' },
  // redis-cli joins the test clusters (test/helpers/redis-cluster.ts); Debian's redis-server brings it (redis-tools).
  { name: 'redis-cli', needs: { binary: 'redis-cli' }, debian: 'redis-server', helper: 'test/helpers/redis-cluster.ts' },
  { name: 'etcd', needs: { binary: 'etcd' }, debian: 'etcd-server', helper: 'test/helpers/etcd-server.ts' },
  { name: 'Java, for ZooKeeper', needs: { binary: 'java' }, debian: 'default-jre-headless', helper: 'test/helpers/zookeeper-server.ts' },
  { name: 'ZooKeeper', needs: { file: ZOOKEEPER_JAR }, debian: 'zookeeper', helper: 'test/helpers/zookeeper-server.ts' },
  // Debian installs haproxy in /usr/sbin, which a non-root PATH often lacks.
  { name: 'HAProxy', needs: { binary: 'haproxy', dirs: ['/usr/sbin', '/usr/local/sbin'] }, debian: 'haproxy', helper: 'test/helpers/haproxy.ts' },
  { name: 'Prometheus', needs: { binary: 'prometheus' }, debian: 'prometheus', helper: 'test/helpers/prometheus-server.ts' },
  { name: 'Alertmanager', needs: { binary: 'prometheus-alertmanager' }, debian: 'prometheus-alertmanager', helper: 'test/helpers/alertmanager-server.ts' },
  // The dashboard's tests drive Debian's Chromium headless through playwright-core.
  { name: 'Chromium', needs: { binary: 'chromium' }, debian: 'chromium', helper: 'test/helpers/browser.ts' },
];

/** The one command that installs `services` (all of them when none are given). */
export function installCommand(services: readonly TestService[] = SERVICES): string {
  return `sudo apt-get install -y ${[...new Set(services.map((s) => s.debian))].join(' ')}`;
}

/** The path of an executable: `name` itself when it holds a slash, else the first match on PATH, then in `dirs`. */
export function findExecutable(name: string, dirs: readonly string[] = [], pathVar = process.env.PATH): string | undefined {
  const candidates = name.includes('/') ? [name] : [...(pathVar ?? '').split(delimiter).filter(Boolean), ...dirs].map((d) => join(d, name));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** Where `service` is installed, or undefined when it is missing. */
export function locate(service: TestService): string | undefined {
  if ('file' in service.needs) return existsSync(service.needs.file) ? service.needs.file : undefined;
  return findExecutable(service.needs.binary, service.needs.dirs);
}

/** The entry whose binary or file is `what`. */
const serviceFor = (what: string) => SERVICES.find((s) => ('binary' in s.needs ? s.needs.binary : s.needs.file) === what);

/** The error a helper throws when it cannot start `what` (a binary or a file): which service, and the command that installs it. */
export function notInstalledError(what: string): Error {
  const service = serviceFor(what);
  const how = service ? `install it with: ${installCommand([service])} (npm test checks and installs every test service)` : 'install it or put it on PATH';
  return new Error(`${what} not found${what.includes('/') ? '' : ' on PATH'}${service ? ` (${service.name})` : ''}; ${how}`);
}

/**
 * Throws notInstalledError unless `what` is an executable (on PATH, or in the dirs its service
 * entry names) or, for a path, an existing file. Helpers call it before they make temp dirs.
 */
export function requireInstalled(what: string): void {
  const service = serviceFor(what);
  const found = service ? locate(service) : what.includes('/') ? existsSync(what) : findExecutable(what);
  if (!found) throw notInstalledError(what);
}
