/**
 * `npm start`: the whole system on one machine with embedded defaults — Redis (started
 * if needed), the API, one engine replica (with the local scheduler's supervisor) and,
 * when HAProxy is installed, a gateway agent.
 */
import { spawnSync } from 'node:child_process';
import { loadGatewayAgentConfig } from '../../adapters/gateway-agent/config.ts';
import { startGatewayAgentFor } from '../../adapters/gateway-agent/main.ts';
import { startApi } from '../../api/main.ts';
import { loadConfig } from '../../boot/config.ts';
import { startEngineFor } from '../../boot/engine.ts';
import { createLogger } from '../../boot/logger.ts';
import { exitOnSignal } from '../../boot/shutdown.ts';
import { createSystem, type BootedSystem } from '../../boot/system.ts';
import { ensureRedis } from './ensure-redis.ts';

if (import.meta.main) {
  const env = process.env;
  const config = loadConfig(env);
  const core = config.core;
  // Pretty logs for a person at a terminal unless VEER_LOG_PRETTY says otherwise.
  const logger = createLogger({ level: core.logLevel, pretty: core.logPrettyExplicit ? core.logPretty : process.stdout.isTTY === true });
  let redisProc: Awaited<ReturnType<typeof ensureRedis>>;
  try {
    // A Cluster or Sentinels are the operator's: only a single local server is ever started here.
    redisProc = config.redis.mode === 'single' ? await ensureRedis(core.redisUrl, core.dataDir, logger, core.redisAutostart) : undefined;
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(1);
  }
  const system: BootedSystem = await createSystem(config, logger);
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  let agent: Awaited<ReturnType<typeof startGatewayAgentFor>> | undefined;
  // Registered before anything starts, so Ctrl-C during start-up still shuts down cleanly.
  exitOnSignal(
    logger,
    async () => {
      await starting.catch(() => undefined);
      await api?.close();
      await agent?.stop();
      await system.close();
      await redisProc?.stop();
    },
    config.core.engine.shutdownGraceMs,
  );

  const starting = (async () => {
    await system.redis.checkEvictionPolicy(logger);
    await startEngineFor(system, logger);
    api = await startApi(system, logger);
    const haveHaproxy = spawnSync(config.haproxyBin, ['-v'], { stdio: 'ignore' }).status === 0;
    if (core.startGatewayAgent === 'true' || (core.startGatewayAgent === 'auto' && haveHaproxy)) {
      // The config compiled above is reused; only the agent's own section is added.
      agent = await startGatewayAgentFor({ ...config, agent: loadGatewayAgentConfig(env) }, logger.child({ component: 'gateway-agent' }));
    } else if (core.startGatewayAgent === 'auto') {
      logger.warn(
        `HAProxy (${config.haproxyBin}) is not installed: gateways are stored but no traffic is routed. Install it (Debian/Ubuntu: sudo apt-get install -y haproxy; macOS: brew install haproxy) and restart.`,
      );
    }
    logger.info(`Veer is up: API on http://127.0.0.1:${api.port}/api/v1 — try curl -s http://127.0.0.1:${api.port}/readyz`);
  })();
  await starting;
}
