#!/usr/bin/env node
// The `veer` bin. It is plain JavaScript so that any Node can start it: the CLI itself is
// TypeScript run by Node 24's type stripping, so an older Node hands over to the Node 24 the
// package brings (the `node` dependency), with the same arguments, stdio and exit code.
import { spawn } from 'node:child_process';
import { createRequire, enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);
// `veer check` compiles in isolated-vm, which needs V8's start-up snapshot off (a process flag).
const needsFlag = process.argv[2] === 'check' && !process.execArgv.includes('--no-node-snapshot');

if (major >= 24 && !needsFlag) {
  // V8's code cache on disk (os.tmpdir()/node-compile-cache): later starts skip compiling the CLI's modules again.
  enableCompileCache?.();
  const { main } = await import('./main.ts');
  await main();
} else {
  let node = process.execPath;
  if (major < 24) {
    try {
      node = createRequire(import.meta.url).resolve('node/bin/node');
    } catch {
      process.stderr.write(`veer needs Node.js 24 or later (this is ${process.version}); run \`npm ci\` in the Veer checkout to get it\n`);
      process.exit(1);
    }
  }
  const child = spawn(node, ['--no-node-snapshot', self, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, sig) => process.exit(code ?? 128 + (sig === 'SIGINT' ? 2 : 15)));
}
