import { parentPort } from 'node:worker_threads';
import { serveCompiles } from './compile-protocol.ts';

/**
 * Entry point of the compile worker thread that script-compiler.ts starts by file URL. It
 * runs compileScript so that whatever an upload does to the type stripper (a WASM module whose
 * state one deeply nested upload corrupted for the life of the process) or to the thread's
 * heap stays in a thread the host throws away.
 */
if (!parentPort) throw new Error('compile-worker.ts runs as a worker thread (started by script-compiler.ts)');
serveCompiles(parentPort);
