import { delay } from './delay.ts';

/**
 * `--watch`: renders again every `intervalMs` until interrupted. On a terminal each frame
 * replaces the last (cursor home + clear); piped, frames follow each other, so a log of the
 * output reads as a history.
 */
export async function watch(render: () => Promise<string>, options: { intervalMs: number; signal: AbortSignal; stream?: NodeJS.WriteStream }): Promise<void> {
  const stream = options.stream ?? process.stdout;
  while (!options.signal.aborted) {
    const frame = await render();
    stream.write(stream.isTTY ? `\x1b[H\x1b[2J${frame}` : `${frame}\n`);
    await delay(options.intervalMs, options.signal).catch(() => {});
  }
}
