import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { registerApply } from './apply.ts';
import { registerCheck } from './check.ts';
import { registerCompletion } from './completion.ts';
import { registerConfig } from './config.ts';
import { registerDelete } from './delete.ts';
import { registerDescribe } from './describe.ts';
import { registerDiff } from './diff.ts';
import { registerEvents } from './events.ts';
import { registerExport } from './export.ts';
import { registerGet } from './get.ts';
import { registerInit } from './init.ts';
import { registerLogs } from './logs.ts';
import { registerPause } from './pause.ts';
import { registerRelease } from './release.ts';
import { registerRun } from './run.ts';
import { registerScale } from './scale.ts';
import { registerSignal } from './signal.ts';
import { registerState } from './state.ts';
import { registerStatus } from './status.ts';
import { registerWeights } from './weights.ts';

/** Every `veer` command; each module adds its own (with its options and help) to the program. */
export function registerCommands(program: Command, ctx: CommandContext): void {
  for (const register of [
    registerApply,
    registerDiff,
    registerDelete,
    registerExport,
    registerGet,
    registerDescribe,
    registerRun,
    registerLogs,
    registerEvents,
    registerWeights,
    registerScale,
    registerSignal,
    registerPause,
    registerState,
    registerRelease,
    registerStatus,
    registerConfig,
    registerCompletion,
    registerInit,
    registerCheck,
  ])
    register(program, ctx);
}
