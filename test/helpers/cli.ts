import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveApi } from '../e2e/serve-api.ts';
import { startTestSystem, type TestSystem } from './test-system.ts';
import { waitFor } from './wait-for.ts';

const BIN = fileURLToPath(new URL('../../cli/veer.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to the command's stdin (then closed). */
  input?: string;
}

/** A `veer` started in the background (`logs -f`, `--watch`): its output so far, and a stop. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the result once the process has exited. */
  exited: Promise<CliResult>;
  stop(): Promise<CliResult>;
}

/**
 * The `veer` bin as a user runs it (a separate process, the package's bin file), against a real
 * Veer: a test system (API and one engine) served on a loopback port. Each system gets its own
 * config file (VEER_CONFIG) in a temp dir, so no test reads the machine's ~/.config.
 */
export interface CliSystem {
  t: TestSystem;
  url: string;
  /** A temp dir for manifests and the CLI config; removed by stop(). */
  dir: string;
  env: Record<string, string>;
  veer(args: string[], options?: CliOptions): Promise<CliResult>;
  spawnVeer(args: string[], options?: CliOptions): CliProcess;
  /** Stops the HTTP server (the system keeps running), for unreachable and restart tests. */
  stopApi(): Promise<void>;
  /** Serves the API again on the same port. */
  startApi(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCliSystem(options: { env?: Record<string, string> } = {}): Promise<CliSystem> {
  const t = await startTestSystem({ engine: true, env: options.env });
  let api = await serveApi(t);
  const port = Number(new URL(api.url).port);
  let serving = true;
  const dir = await mkdtemp(join(tmpdir(), 'veer-cli-'));
  const env: Record<string, string> = { VEER_URL: api.url, VEER_CONFIG: join(dir, 'config.yaml') };
  const childEnv = (extra?: Record<string, string | undefined>) => {
    const e: Record<string, string | undefined> = { ...process.env, ...env, ...extra };
    // The runner's own colour settings must not leak into assertions on plain text.
    delete e.FORCE_COLOR;
    for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
    return e as NodeJS.ProcessEnv;
  };
  const spawnVeer = (args: string[], o: CliOptions = {}): CliProcess => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? dir, env: childEnv(o.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin!.end(o.input ?? '');
    const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout: out, stderr: err })));
    return {
      child,
      stdout: () => out,
      stderr: () => err,
      exited,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        return exited;
      },
    };
  };
  const stopApi = async () => {
    if (!serving) return;
    serving = false;
    await api.close();
  };
  return {
    t,
    url: api.url,
    dir,
    env,
    veer: (args, o) => spawnVeer(args, o).exited,
    spawnVeer,
    stopApi,
    async startApi() {
      if (serving) return;
      // The port was just freed; another process may take it in between, so retry briefly.
      api = await waitFor(() => serveApi(t, port).catch(() => undefined), { timeoutMs: 10_000, what: `the API back on port ${port}` });
      serving = true;
    },
    async stop() {
      await stopApi();
      await t.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
