import type { Command } from 'commander';
import { parseJsonFlag } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT, usageError } from '../errors.ts';
import { formatTable } from '../output.ts';

/** A value in a table cell: compact JSON, cut so that one key stays one line. */
const cell = (v: unknown, max = 80) => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

const ACTIONS = ['get', 'set', 'delete', 'reset'] as const;

export function registerState(program: Command, ctx: CommandContext): void {
  program
    .command('state')
    .description("A workflow's script state (ctx.state): get [key], set <key> <json>, delete <key>, reset")
    .argument('<workflow>', 'the workflow')
    .argument('[action]', `${ACTIONS.join(', ')}`, 'get')
    .argument('[args...]', 'get [key] | set <key> <json> | delete <key> | reset')
    .addHelpText(
      'after',
      "\nExamples:\n  veer state shop-canary\n  veer state shop-canary get release -o json\n  veer state shop-canary set step '3'\n  veer state shop-canary reset",
    )
    .action(async (workflow: string, action: string, args: string[]) => {
      const arity = (min: number, max: number, usage: string) => {
        if (args.length < min || args.length > max) throw usageError(`state ${action}: usage: veer state <workflow> ${usage}`);
      };
      const client = await ctx.client();
      const path = { name: workflow };
      switch (action) {
        case 'get': {
          arity(0, 1, 'get [key]');
          const { state } = await ctx.send(client.GET('/api/v1/workflows/{name}/state', { params: { path } }));
          const key = args[0];
          if (key === undefined) {
            const keys = Object.keys(state).sort();
            return ctx.print(state, () =>
              keys.length
                ? formatTable(
                    ['key', 'value'],
                    keys.map((k) => [k, cell(state[k])]),
                  )
                : `workflow ${workflow} has no state`,
            );
          }
          // The API has no GET of one key: read them all and pick it.
          if (!Object.hasOwn(state, key)) throw new CliError(`workflow ${workflow} has no state key '${key}'`, EXIT.notFound);
          return ctx.print(state[key], () => JSON.stringify(state[key], null, 2));
        }
        case 'set': {
          arity(2, 2, 'set <key> <json>');
          const value = parseJsonFlag('value', args[1]);
          const res = await ctx.send(
            client.PUT('/api/v1/workflows/{name}/state/{key}', { params: { path: { ...path, key: args[0]! } }, body: value as never }),
          );
          return ctx.print(res, () => `${workflow} state ${res.key} = ${cell(res.value)}`);
        }
        case 'delete': {
          arity(1, 1, 'delete <key>');
          await ctx.send(client.DELETE('/api/v1/workflows/{name}/state/{key}', { params: { path: { ...path, key: args[0]! } } }));
          return ctx.print({ deleted: args[0] }, () => `${workflow} state ${args[0]} deleted`);
        }
        case 'reset': {
          arity(0, 0, 'reset');
          const res = await ctx.send(client.DELETE('/api/v1/workflows/{name}/state', { params: { path } }));
          return ctx.print(res, () => `${workflow} state reset: ${res.deleted} key(s) deleted; the next run starts from nothing`);
        }
        default:
          throw usageError(`state: unknown action '${action}' (${ACTIONS.join(', ')})`);
      }
    });
}
