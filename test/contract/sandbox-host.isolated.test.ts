import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { runSandboxHostContract } from './sandbox-host.contract.ts';

/** The production host: isolated-vm isolates in one supervised child process (kept small: the suite forks each host it creates). */
runSandboxHostContract('isolated (isolated-vm in child processes)', async () => ({
  create: async () => createIsolatedSandbox({ processes: 1, runsPerProcess: 4, logger: silentLogger() }),
}));
