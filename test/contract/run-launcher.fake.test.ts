import { createFakeLauncher } from '../events/fakes.ts';
import { runRunLauncherContract } from './run-launcher.contract.ts';

/** The fake the trigger tests use: any workflow name is accepted, nothing is stored. */
runRunLauncherContract('fake (test/events/fakes.ts)', async () => ({
  create: async () => createFakeLauncher(),
  teardown: async () => {},
}));
