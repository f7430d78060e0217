import { fileURLToPath } from 'node:url';
import { startProcess, type ServiceProcess } from './process.ts';

const ENGINE_MAIN = fileURLToPath(new URL('../../engine/main.ts', import.meta.url));

/** Runs the real engine entry point (`npm run engine`) as a separate process. */
export function startEngineProcess(env: Record<string, string>): ServiceProcess {
  return startProcess(process.execPath, ['--no-node-snapshot', ENGINE_MAIN], {
    env: { ...process.env, VEER_LOG_LEVEL: 'warn', ...env },
  });
}
