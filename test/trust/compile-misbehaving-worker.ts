import { parentPort } from 'node:worker_threads';
import { answer, serveCompiles } from '../../engine/sandbox/compile-protocol.ts';

/**
 * A compile worker (engine/sandbox/compile-worker.ts) that misbehaves on cue, for the tests of
 * what the host does when its worker hangs, dies or runs out of memory. Scripts whose first
 * line is `// hang`, `// exit`, `// throw` or `// oom` trigger it; anything else compiles
 * for real.
 */
if (!parentPort) throw new Error('a worker thread');
const hoard: unknown[] = [];
serveCompiles(parentPort, (request) => {
  const cue = request.source.split('\n', 1)[0];
  if (cue === '// hang') for (;;);
  if (cue === '// exit') process.exit(3);
  if (cue === '// throw')
    setImmediate(() => {
      throw new Error('boom in the compile worker');
    });
  if (cue === '// oom') for (;;) hoard.push(new Array(1e5).fill({ a: Math.random() }));
  return cue === '// throw' ? { id: -1, ok: true, code: '' } : answer(request);
});
