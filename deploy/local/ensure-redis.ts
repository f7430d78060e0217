import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { redisAnswers as answers } from '../../adapters/redis/probe.ts';
import type { Logger } from '../../engine/shared/logger.ts';

/**
 * Redis is Veer's one hard requirement. When nothing answers at the configured URL and it
 * points at this machine, start a local redis-server (data and AOF under `<dataDir>/redis`);
 * when none is installed, say exactly how to get one.
 */
export async function ensureRedis(url: string, dataDir: string, logger: Logger, autostart = true): Promise<{ stop: () => Promise<void> } | undefined> {
  if (await answers(url)) {
    logger.info({ url }, 'using the Redis at VEER_REDIS_URL');
    return undefined;
  }
  if (!autostart) throw new Error(`No Redis answers at ${url} and VEER_REDIS_AUTOSTART=false: start Redis there, or point VEER_REDIS_URL at a running one.`);
  const u = new URL(url);
  const local = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(u.hostname);
  const installed = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!local || !installed) {
    const how = !installed
      ? 'redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) and run this command again, or'
      : `${url} is not on this machine, so it cannot be started from here:`;
    throw new Error(`No Redis answers at ${url}. ${how} point VEER_REDIS_URL at a running Redis (redis://host:port).`);
  }
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = u.port || '6379';
  logger.info({ url, dir }, 'no Redis answered; starting a local redis-server (AOF on, noeviction)');
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      port,
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--logfile',
      'redis.log',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`redis-server did not start on ${url}; see ${dir}/redis.log`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
