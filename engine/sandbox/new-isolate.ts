import ivm from 'isolated-vm';

/** A fresh isolate with the run's heap limit: the one place isolates are made (pooled, spare or per run). */
export function newIsolate(memoryMb: number): ivm.Isolate {
  return new ivm.Isolate({
    memoryLimit: memoryMb,
    // isolated-vm's advice: V8 has lost control of the isolate, so the process must go; the
    // parent sees the exit, fails this process's runs as crashed and starts a new process.
    onCatastrophicError: (message) => {
      process.stderr.write(`sandbox: catastrophic isolate error: ${message}\n`);
      process.abort();
    },
  });
}
