import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { startProcess, tempDir, type ServiceProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WAIT = { timeoutMs: 60_000, intervalMs: 100 };

/** Whether something accepts connections on a loopback port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The README's first command, as a newcomer (or a process supervisor) runs it: `npm start` on
 * embedded defaults starts its own Redis and serves the API; a SIGTERM to `npm` (what systemd,
 * a container runtime or `kill` sends) stops everything it started: Veer, its sandbox processes
 * and that Redis. (Before `exec` in the script, npm's shell died and left Veer running.)
 */
describe('npm start', () => {
  let npm: ServiceProcess;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let apiPort: number;
  let redisPort: number;
  let veerPid = 0;

  before(async () => {
    dir = await tempDir('npm-start');
    [apiPort, redisPort] = [await freePort(), await freePort()];
    // npm itself, as `npm test` was started (npm_execpath), else the one on PATH.
    const [cmd, args] = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath, 'start']] : ['npm', ['start']];
    npm = startProcess(cmd, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        VEER_API_PORT: String(apiPort),
        VEER_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        VEER_DATA_DIR: dir.path,
        VEER_START_GATEWAY_AGENT: 'false',
        VEER_LOG_PRETTY: 'false',
      },
    });
  });
  after(async () => {
    // A failed test must not leave its Veer or Redis behind.
    await npm?.stop('SIGTERM');
    if (veerPid > 0 && alive(veerPid)) process.kill(veerPid, 'SIGKILL');
    if (redisPort && (await listening(redisPort))) {
      await new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: redisPort }, () => socket.end('SHUTDOWN NOSAVE\r\n'));
        socket.once('close', () => resolve());
        socket.once('error', () => resolve());
      });
    }
    await dir?.remove();
  });

  it('serves on its own Redis, and a SIGTERM to npm stops everything it started', async () => {
    await waitFor(
      async () => {
        npm.assertRunning();
        const res = await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined);
        return res?.status === 200;
      },
      { ...WAIT, what: `npm start to be ready on port ${apiPort}` },
    );
    assert.equal(await listening(redisPort), true, 'npm start started a Redis of its own');
    const put = await fetch(`http://127.0.0.1:${apiPort}/api/v1/workflows/hello`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ script: 'export default async () => 42' }),
    });
    assert.equal(put.status, 200, await put.text());
    const run = await fetch(`http://127.0.0.1:${apiPort}/api/v1/workflows/hello/runs?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(((await run.json()) as { result: unknown }).result, 42);

    // Veer's own pid, from its structured log lines.
    veerPid = Number(/"pid":(\d+)/.exec(npm.output())?.[1]);
    assert.ok(veerPid > 0 && veerPid !== npm.child.pid, npm.output().slice(-500));
    npm.child.kill('SIGTERM');
    await waitFor(() => !alive(veerPid), { ...WAIT, what: `Veer (pid ${veerPid}) to exit after npm's SIGTERM` });
    await waitFor(async () => !(await listening(redisPort)), { ...WAIT, what: 'the Redis npm start began to stop' });
    await waitFor(async () => !(await listening(apiPort)), { ...WAIT, what: 'the API port to close' });
    assert.match(npm.output(), /"msg":"shutting down"/);
  });
});
