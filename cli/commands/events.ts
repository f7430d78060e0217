import type { Command } from 'commander';
import { collect } from '../args.ts';
import type { components } from '../api/schema.ts';
import type { CommandContext } from '../context.ts';
import { paint } from '../output.ts';
import { followSse } from '../sse.ts';

type VeerEvent = components['schemas']['Event'];

/** `TIME TYPE TAGS VALUE`: one line per event, so `grep` and `awk` work on a live stream. */
export function formatEventLine(e: VeerEvent): string {
  return `${e.timestamp} ${paint('cyan', e.type)} ${e.tags.join(',')} ${e.value === undefined ? '-' : JSON.stringify(e.value)}`;
}

export function registerEvents(program: Command, ctx: CommandContext): void {
  const events = program.command('events').description('Veer events: follow them live');
  events
    .command('tail')
    .description('Print events as they are stored (TIME TYPE TAGS VALUE; -o json: one object per line) until Ctrl-C')
    .option('--tag <tag>', 'only events with this tag (repeatable: every tag must be on the event)', collect, [] as string[])
    .option('--type <type>', 'only events of this type')
    .action(async (opts: { tag: string[]; type?: string }) => {
      const conn = await ctx.connection();
      const query = new URLSearchParams();
      for (const t of opts.tag) query.append('tag', t);
      if (opts.type) query.set('type', opts.type);
      const qs = query.toString();
      const url = `${conn.url.replace(/\/+$/, '')}/api/v1/events/stream${qs ? `?${qs}` : ''}`;
      const structured = ctx.format() !== 'table';
      await followSse(url, {
        token: conn.token,
        signal: ctx.signal,
        onStatus: (status, detail) => ctx.err(status === 'reconnecting' ? `connection lost (${detail}); reconnecting…` : 'reconnected'),
        onEvent(ev) {
          const e = JSON.parse(ev.data) as VeerEvent;
          ctx.out(structured ? JSON.stringify(e) : formatEventLine(e));
        },
      });
    });
}
