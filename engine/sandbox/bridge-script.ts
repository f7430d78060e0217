import ivm from 'isolated-vm';
import { bridgeFunctionSource } from './bridge.ts';

/**
 * The bridge compiled for an isolate, from V8 cachedData this process produced the first time
 * (the bridge is ~600 lines: parsing it was the largest single cost of a fresh isolate after
 * creating the isolate and context). The source is the engine's own, never a user's.
 */
const source = bridgeFunctionSource();
let cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;

export async function compileBridge(isolate: ivm.Isolate): Promise<ivm.Script> {
  const options = cachedData ? { filename: 'veer:bridge', cachedData } : { filename: 'veer:bridge', produceCachedData: true };
  const script = await isolate.compileScript(source, options);
  const out = script as ivm.Script & { cachedData?: ivm.ExternalCopy<ArrayBuffer>; cachedDataRejected?: boolean };
  if (cachedData && out.cachedDataRejected === true) cachedData = undefined;
  else if (!cachedData && out.cachedData) cachedData = out.cachedData;
  return script;
}
