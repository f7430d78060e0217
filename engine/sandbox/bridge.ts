/**
 * The bridge between a script and its child process. `bridge` is never called in Node: its
 * source text (types stripped by Node, so lines are unchanged) is evaluated inside each fresh
 * isolate BEFORE the user's module, and it returns one dispatcher the child holds a Reference to.
 *
 * What the isolate holds: one `send` function (an ivm.Callback that posts primitive values to
 * the child and returns nothing). No ivm.Reference, ExternalCopy, Isolate or Context ever enters
 * the isolate, so there is nothing whose `constructor` walks to the host. Everything crosses as
 * JSON strings, serialised and parsed here in the isolate, so user getters, toJSON and Proxies
 * only ever run in the user's own realm.
 *
 * Builtins are captured before user code runs and only called directly (never through
 * `.call`/`.apply` or methods the user can patch), bookkeeping objects have a null prototype (no
 * setter on Object.prototype sees them), and every function handed to the script is strict (so
 * `.caller`/`.arguments` throw and stack-trace CallSites hide them).
 *
 * Left in place on purpose: `eval` and the Function constructors. They only compile code in the
 * isolate's own realm, which can do nothing the script's own code cannot (isolated-vm allows
 * code generation from strings up to memoryLimit/8 characters and exposes no switch for it).
 * Removed: SharedArrayBuffer, Atomics, WebAssembly, Intl, FinalizationRegistry (see below).
 * Never present: process, require, import of any module (the linker refuses; dynamic import()
 * rejects), timers, fetch.
 *
 * isolated-vm reads a value thrown out of the isolate (and the reason of any promise rejection
 * left unhandled at the end of a call) itself: `message`, `stack`, `name`, each through getters
 * and `toString`, outside every time limit — a looping getter there wedges the isolate's thread
 * for good. So no user value may ever leave that way: each call into the isolate starts by
 * leaving one rejection of our own, a plain string (the sentinel), unhandled. isolated-vm only
 * reports the first unhandled rejection of a call, so it reads ours and never the script's; the
 * child treats the sentinel as "nothing to report". Outcomes travel through `send` instead, and
 * a thrown value is read by `describe`, in a call of its own under a time limit.
 */

/*
 * What the bridge sends the child (`send(kind, …)`, primitives only):
 *   'loaded'            the user's module finished evaluating (top-level await included)
 *   'after'             evaluation went past the user's module without it throwing synchronously
 *   'settled', kind     the default export (or the replay) returned or threw: 'value', 'error' or
 *                       'invalid'; `describe` turns that into 'done'
 *   'done', out         a tag letter, then data (written as literals inside the isolate, where
 *                       no host constant can be referenced):
 *                         'R' + JSON of the result ('' when the result is undefined)
 *                         'E' + JSON {name, message, stack, code}, each capped
 *                         'T' + the lower bound of the result's size in characters
 *                         'U' + why the result cannot be encoded (cycle, BigInt, too deep, …)
 *                         'I' + message (no usable default export)
 *   'dropped', n        log calls dropped past the cap
 *   'log', 'call', 'sleep' as before.
 */

export interface BridgeSetup {
  /** JSON of { input, env, workflow, run }. */
  context: string;
  capabilities: Array<[string, string[]]>;
  maxLogEntries: number;
  maxLogMessageChars: number;
  maxLogFieldsChars: number;
  maxHostArgsChars: number;
  maxResultChars: number;
  /** Deepest nesting a result or log fields may have (the host's own JSON encoder recurses). */
  maxJsonDepth: number;
  maxErrorNameChars: number;
  maxErrorMessageChars: number;
  maxErrorStackChars: number;
  /** Locale-specific formatting calls (toLocaleString with locales or options, localeCompare with locales) per run. */
  maxLocaleCalls: number;
  /** The string every call into the isolate leaves rejected (see above). */
  sentinel: string;
  /** A global the first helper module calls once, before the user's module runs; then deleted. */
  hookKey: string;
}

/**
 * The bridge as a script whose completion value is the bridge function: compiled once per
 * isolate (and from the child's cachedData, bridge-script.ts), run in each context, and called
 * with (send, setup JSON) to get the dispatcher.
 */
export function bridgeFunctionSource(): string {
  return `(${bridge.toString()})`;
}

/**
 * The helper modules around the user's one (specifier → source). The root imports `veer:pre`
 * (runs first: takes the hook, leaves the sentinel), then `veer:post`, which imports the
 * user's module and so runs only once it has finished evaluating, top-level await included,
 * then `veer:after`, which runs unless the user's module threw synchronously.
 */
export function helperModules(hookKey: string): { root: string; pre: string; post: string; after: string } {
  const key = JSON.stringify(hookKey);
  return {
    root: 'import "veer:pre"; import "veer:post"; import "veer:after";',
    pre: `export const hook = globalThis[${key}]();`,
    post: 'import { hook } from "veer:pre"; import * as ns from "script"; hook.loaded(ns);',
    after: 'import { hook } from "veer:pre"; hook.after();',
  };
}

// This function is serialised and evaluated inside the isolate, where nothing is typed: the
// captured builtins are untyped values by nature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function bridge(send: (...args: Array<string | number | boolean | undefined>) => void, setupJson: string): Any {
  'use strict';
  const G: Any = globalThis;
  const JSONparse: (s: string) => Any = G.JSON.parse;
  const JSONstringify: (v: unknown, r?: Any) => string | undefined = G.JSON.stringify;
  const ObjectCreate: (p: null) => Any = G.Object.create;
  const ObjectFreeze: <T>(o: T) => T = G.Object.freeze;
  const ObjectDefineProperty: (o: Any, k: string | symbol, d: Any) => Any = G.Object.defineProperty;
  const ObjectGetOwnPropertyDescriptor: (o: Any, k: string | symbol) => Any = G.Object.getOwnPropertyDescriptor;
  const ReflectApply: (f: Any, t: Any, a: Any) => Any = G.Reflect.apply;
  const ReflectConstruct: (f: Any, a: Any, n: Any) => Any = G.Reflect.construct;
  const ReflectDeleteProperty: (o: Any, k: string | number) => boolean = G.Reflect.deleteProperty;
  const StringSlice = G.String.prototype.slice;
  const StringIndexOf = G.String.prototype.indexOf;
  const StringCharCodeAt = G.String.prototype.charCodeAt;
  const ErrorCaptureStackTrace: (target: object, fn: (...args: never[]) => unknown) => void = G.Error.captureStackTrace;
  const StringCtor: (v: unknown) => string = G.String;
  const ErrorCtor: new (m: string) => Any = G.Error;
  const TypeErrorCtor: new (m: string) => Any = G.TypeError;
  const RangeErrorCtor: new (m: string) => Any = G.RangeError;
  const PromiseCtor: new (executor: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void) => Promise<unknown> = G.Promise;
  const NumberIsFinite: (v: unknown) => boolean = G.Number.isFinite;
  const SymbolSpecies: symbol = G.Symbol.species;

  const setup: BridgeSetup = JSONparse(setupJson);
  const TOO_LARGE = ObjectFreeze(ObjectCreate(null));
  const TOO_DEEP = ObjectFreeze(ObjectCreate(null));

  /** Leaves the sentinel rejected and unhandled: the first thing every call into the isolate does. */
  const guard = (): void => {
    void new PromiseCtor((_resolve, reject) => reject(setup.sentinel));
  };

  // Nothing the scripts need, and each can block or escape accounting: Atomics.wait blocks the
  // thread where CPU polling cannot see it, wasm memory lives outside the V8 heap limit, Intl
  // objects hold ICU memory the heap limit does not see (~9 KB each: 200k DateTimeFormats grew
  // the process by 1.8 GB against a 16 MB limit), and FinalizationRegistry callbacks run as
  // tasks of their own, which would start without the guard.
  ReflectDeleteProperty(G, 'SharedArrayBuffer');
  ReflectDeleteProperty(G, 'Atomics');
  ReflectDeleteProperty(G, 'WebAssembly');
  ReflectDeleteProperty(G, 'Intl');
  ReflectDeleteProperty(G, 'FinalizationRegistry');

  // ---- memory the heap limit does not see ------------------------------------------------------
  // A resizable ArrayBuffer's memory is reserved outside the allocator isolated-vm counts: with
  // a 16 MB limit, 64 buffers resized to 16 MB each (and filled) took 1 GB. Plain buffers and
  // typed arrays are counted (the 16 MB isolate is stopped at the limit), so only the
  // `maxByteLength` option is refused. The replacement keeps `ArrayBuffer.prototype` (and so
  // every existing buffer's `constructor`) pointing at itself, so the original is unreachable.
  const ArrayBufferOriginal: Any = G.ArrayBuffer;
  const ArrayBufferSafe: Any = function ArrayBuffer(this: unknown, length: unknown, options?: Any): Any {
    if (new.target === undefined) throw new TypeErrorCtor("Constructor ArrayBuffer requires 'new'");
    if (options !== undefined && options !== null && (typeof options === 'object' || typeof options === 'function') && options.maxByteLength !== undefined) {
      throw new RangeErrorCtor(
        'resizable ArrayBuffers (the maxByteLength option) are not available in the sandbox: their memory is not counted against limits.memoryMb',
      );
    }
    return ReflectConstruct(ArrayBufferOriginal, [length], new.target);
  };
  ObjectDefineProperty(ArrayBufferSafe, 'prototype', {
    __proto__: null,
    value: ArrayBufferOriginal.prototype,
    writable: false,
    enumerable: false,
    configurable: false,
  });
  ObjectDefineProperty(ArrayBufferSafe, 'length', { __proto__: null, value: 1, writable: false, enumerable: false, configurable: true });
  ObjectDefineProperty(ArrayBufferSafe, 'isView', ObjectGetOwnPropertyDescriptor(ArrayBufferOriginal, 'isView'));
  ObjectDefineProperty(ArrayBufferSafe, SymbolSpecies, ObjectGetOwnPropertyDescriptor(ArrayBufferOriginal, SymbolSpecies));
  ObjectDefineProperty(ArrayBufferOriginal.prototype, 'constructor', {
    __proto__: null,
    value: ArrayBufferSafe,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  ObjectDefineProperty(G, 'ArrayBuffer', { __proto__: null, value: ArrayBufferSafe, writable: true, enumerable: false, configurable: true });

  // Locale-specific formatting builds ICU objects outside the heap too, one per call with
  // locales or options (the defaults are cached by V8), so those calls are counted per run.
  let localeCalls = 0;
  const limitLocale = (proto: Any, name: string, localesAt: number): void => {
    const original = proto[name];
    if (typeof original !== 'function') return;
    const wrapped = {
      [name](this: unknown, ...args: unknown[]): unknown {
        if (args.length > localesAt && (args[localesAt] !== undefined || args[localesAt + 1] !== undefined)) {
          if (++localeCalls > setup.maxLocaleCalls) {
            throw new RangeErrorCtor(
              name +
                ' with locales or options is limited to ' +
                setup.maxLocaleCalls +
                ' calls per run in the sandbox (each builds ICU data outside limits.memoryMb)',
            );
          }
        }
        return ReflectApply(original, this, args);
      },
    }[name];
    ObjectDefineProperty(wrapped, 'length', { __proto__: null, value: original.length, writable: false, enumerable: false, configurable: true });
    ObjectDefineProperty(proto, name, { __proto__: null, value: wrapped, writable: true, enumerable: false, configurable: true });
  };
  limitLocale(G.Date.prototype, 'toLocaleString', 0);
  limitLocale(G.Date.prototype, 'toLocaleDateString', 0);
  limitLocale(G.Date.prototype, 'toLocaleTimeString', 0);
  limitLocale(G.Number.prototype, 'toLocaleString', 0);
  limitLocale(G.BigInt.prototype, 'toLocaleString', 0);
  limitLocale(G.String.prototype, 'localeCompare', 1);

  const slice = (s: string, end: number): string => ReflectApply(StringSlice, s, [0, end]);

  const safeString = (v: unknown): string => {
    try {
      return typeof v === 'string' ? v : StringCtor(v);
    } catch {
      return '[unprintable value]';
    }
  };

  /** `s` cut to `max` characters, saying so. */
  const cap = (s: string, max: number): string => (s.length > max ? slice(s, max) + ' … [truncated: ' + s.length + ' characters, limit ' + max + ']' : s);

  /**
   * JSON.stringify that gives up (throws TOO_LARGE, leaving the size seen so far in `overflow`)
   * once the output is surely over `budget`, before building a huge string, and (with
   * `maxDepth`) throws TOO_DEEP past that nesting. The running count is a lower bound (keys and
   * punctuation are not counted); the child checks the exact bytes.
   */
  let overflow = 0;
  const toJson = (value: unknown, budget: number, maxDepth = 0): string | undefined => {
    let used = 0;
    // The objects from the root to the value being visited: JSON.stringify calls the replacer
    // with `this` = the holder, depth first, so popping back to the holder gives the depth.
    const path: unknown[] = [];
    let depth = 0;
    const replacer = function (this: unknown, _key: string, v: unknown): unknown {
      used += typeof v === 'string' ? v.length + 2 : 1;
      if (used > budget) {
        overflow = used;
        throw TOO_LARGE;
      }
      if (maxDepth > 0) {
        while (depth > 0 && path[depth - 1] !== this) depth--;
        if (v !== null && typeof v === 'object') {
          if (depth >= maxDepth) throw TOO_DEEP;
          path[depth++] = v;
        }
      }
      return v;
    };
    const out = JSONstringify(value, replacer);
    if (out !== undefined && out.length > budget) {
      overflow = out.length;
      throw TOO_LARGE;
    }
    return out;
  };

  // Pending host calls and sleeps, by id: settled by 'deliver' from the child.
  const pending: Any = ObjectCreate(null);
  let nextId = 0;
  const expect = (site?: Any): { id: number; promise: Promise<unknown> } => {
    const id = ++nextId;
    const promise = new PromiseCtor((resolve, reject) => {
      pending[id] = ObjectFreeze({ __proto__: null, resolve, reject, site });
    });
    return { __proto__: null, id, promise } as Any;
  };

  const describe = (prefix: string, v: unknown): string => {
    const s = safeString(v);
    return s.length > 200 ? prefix + slice(s, 200) + '…' : prefix + s;
  };

  // ---- logs -------------------------------------------------------------------------------
  let logCount = 0;
  let dropped = 0;
  /** Set while the top-level code runs a second time (see replay below). */
  let replaying = false;
  const log = (level: string, message: unknown, fields: unknown): void => {
    // Whatever the replayed top-level code logs was logged when it first ran (see replay).
    if (replaying) return;
    if (logCount >= setup.maxLogEntries) {
      // Past the cap a log call only counts; the child hears of it at powers of two and at the end.
      dropped++;
      if ((dropped & (dropped - 1)) === 0) send('dropped', dropped);
      return;
    }
    logCount++;
    let text = safeString(message);
    if (text.length > setup.maxLogMessageChars) {
      text = slice(text, setup.maxLogMessageChars) + ' … [message truncated: ' + text.length + ' characters, limit ' + setup.maxLogMessageChars + ']';
    }
    let fieldsJson: string | undefined;
    if (fields !== undefined && fields !== null) {
      try {
        fieldsJson = toJson(fields, setup.maxLogFieldsChars, setup.maxJsonDepth);
      } catch (err) {
        const why =
          err === TOO_LARGE
            ? 'fields larger than ' + setup.maxLogFieldsChars + ' characters were dropped'
            : err === TOO_DEEP
              ? 'fields nested deeper than ' + setup.maxJsonDepth + ' levels were dropped'
              : describe('fields could not be serialised: ', err);
        fieldsJson = JSONstringify({ __proto__: null, fieldsError: why });
      }
    }
    send('log', level, text, fieldsJson);
  };

  const format = (args: unknown[]): string => {
    let out = '';
    for (let i = 0; i < args.length; i++) {
      const v = args[i];
      let s: string;
      if (typeof v === 'string') s = v;
      else if (v !== null && typeof v === 'object') {
        try {
          const stack = (v as Any).stack;
          if (typeof stack === 'string') s = stack;
          else s = toJson(v, setup.maxLogMessageChars) ?? safeString(v);
        } catch {
          s = safeString(v);
        }
      } else s = safeString(v);
      out = i === 0 ? s : out + ' ' + s;
      if (out.length > setup.maxLogMessageChars) break;
    }
    return out;
  };

  const logApi = ObjectFreeze({
    debug: function debug(message: unknown, fields?: unknown) {
      log('debug', message, fields);
    },
    info: function info(message: unknown, fields?: unknown) {
      log('info', message, fields);
    },
    warn: function warn(message: unknown, fields?: unknown) {
      log('warn', message, fields);
    },
    error: function error(message: unknown, fields?: unknown) {
      log('error', message, fields);
    },
  });

  const consoleApi = ObjectFreeze({
    log: function log_(...args: unknown[]) {
      log('info', format(args), undefined);
    },
    info: function info(...args: unknown[]) {
      log('info', format(args), undefined);
    },
    warn: function warn(...args: unknown[]) {
      log('warn', format(args), undefined);
    },
    error: function error(...args: unknown[]) {
      log('error', format(args), undefined);
    },
    debug: function debug(...args: unknown[]) {
      log('debug', format(args), undefined);
    },
  });
  ObjectDefineProperty(G, 'console', { __proto__: null, value: consoleApi, writable: true, configurable: true, enumerable: false });

  // ---- host calls and sleep ----------------------------------------------------------------
  const hostCall = (capability: string, method: string, args: unknown[], site: Any): Promise<unknown> => {
    let argsJson: string | undefined;
    try {
      argsJson = toJson(args, setup.maxHostArgsChars);
    } catch (err) {
      if (err === TOO_LARGE)
        throw new ErrorCtor('ctx.' + capability + '.' + method + ': arguments are larger than ' + setup.maxHostArgsChars + ' characters of JSON');
      throw err;
    }
    const call = expect(site);
    send('call', call.id, capability, method, argsJson ?? '[]');
    return call.promise;
  };

  const makeMethod = (capability: string, method: string) => {
    const isFetch = capability === 'http' && method === 'fetch';
    // An async function so that argument errors reject rather than throw synchronously.
    const fn = async function (...args: unknown[]): Promise<unknown> {
      // The user's frames at the call, so that a host error points at the line that called it.
      const site = new ErrorCtor('');
      ErrorCaptureStackTrace(site, fn);
      // `return await`, not `return`: resolving an async function with a promise looks up that
      // promise's (user-patchable) `then`; awaiting it does not.
      const result = await hostCall(capability, method, args, site);
      // ctx.http.fetch answers plain data; `json()` is added here, in the isolate, so parsing costs the script's own CPU and memory.
      if (isFetch && result !== null && typeof result === 'object') {
        const text = (result as Any).text;
        ObjectDefineProperty(result, 'json', {
          __proto__: null,
          value: function json(): unknown {
            return JSONparse(typeof text === 'string' ? text : '');
          },
          writable: false,
          configurable: false,
          enumerable: false,
        });
      }
      return result;
    };
    return fn;
  };

  const sleep = function sleep(ms: unknown): Promise<unknown> {
    const n = typeof ms === 'number' ? ms : +(ms as number);
    if (!NumberIsFinite(n) || n < 0) return new PromiseCtor((_r, reject) => reject(new TypeErrorCtor('ctx.sleep(ms): ms must be a finite number >= 0')));
    const call = expect();
    send('sleep', call.id, n);
    return call.promise;
  };

  const makeCtx = (): Any => {
    const ctx = JSONparse(setup.context);
    const define = (name: string, value: unknown) =>
      ObjectDefineProperty(ctx, name, { __proto__: null, value, writable: false, configurable: false, enumerable: true });
    define('log', logApi);
    define('sleep', sleep);
    for (let i = 0; i < setup.capabilities.length; i++) {
      const entry = setup.capabilities[i];
      const cap = ObjectCreate(null);
      for (let j = 0; j < entry[1].length; j++) {
        cap[entry[1][j]] = makeMethod(entry[0], entry[1][j]);
      }
      define(entry[0], ObjectFreeze(cap));
    }
    return ctx;
  };

  // ---- module loading ----------------------------------------------------------------------
  let moduleNs: Any;
  const hooks = ObjectFreeze({
    __proto__: null,
    loaded: function loaded(ns: unknown): void {
      if (moduleNs !== undefined) return;
      moduleNs = ns;
      send('loaded');
    },
    after: function after(): void {
      send('after');
    },
  });
  ObjectDefineProperty(G, setup.hookKey, {
    __proto__: null,
    value: function hook(): Any {
      ReflectDeleteProperty(G, setup.hookKey);
      guard();
      return hooks;
    },
    writable: false,
    enumerable: false,
    configurable: true,
  });

  // ---- outcome -----------------------------------------------------------------------------
  // The default export's outcome, kept as it is until `describe` reads it under a time limit.
  let outcome: Any;

  const read = (o: Any, key: string): string | undefined => {
    try {
      const v = o[key];
      return v === undefined || v === null ? undefined : safeString(v);
    } catch {
      return undefined;
    }
  };

  /** `PERMISSION`, `SANDBOX.NO_SUCH_CAPABILITY`: upper-case words joined by dots, at most 64 characters. */
  const isCode = (s: string): boolean => {
    if (s.length === 0 || s.length > 64) return false;
    let wordStart = true;
    for (let i = 0; i < s.length; i++) {
      const c: number = ReflectApply(StringCharCodeAt, s, [i]);
      const upper = c >= 65 && c <= 90;
      if (wordStart) {
        if (!upper) return false;
        wordStart = false;
      } else if (c === 46) wordStart = true;
      else if (!upper && !(c >= 48 && c <= 57) && c !== 95) return false;
    }
    return !wordStart;
  };

  const errorOutcome = (err: unknown): string => {
    let data: Any;
    if (err !== null && (typeof err === 'object' || typeof err === 'function')) {
      const name = read(err, 'name');
      const message = read(err, 'message');
      const stack = read(err, 'stack');
      const code = read(err, 'code');
      data = {
        __proto__: null,
        name: name === undefined ? undefined : cap(name, setup.maxErrorNameChars),
        message: message === undefined ? describe('', err) : cap(message, setup.maxErrorMessageChars),
        stack: stack === undefined ? undefined : cap(stack, setup.maxErrorStackChars),
        code: code !== undefined && isCode(code) ? code : undefined,
      };
    } else {
      data = { __proto__: null, name: undefined, message: describe('a non-error value was thrown: ', err), stack: undefined, code: undefined };
    }
    return 'E' + JSONstringify(data);
  };

  const resultOutcome = (value: unknown): string => {
    try {
      return 'R' + (toJson(value, setup.maxResultChars, setup.maxJsonDepth) ?? '');
    } catch (err) {
      if (err === TOO_LARGE) return 'T' + overflow;
      if (err === TOO_DEEP) return 'U' + 'it is nested deeper than ' + setup.maxJsonDepth + ' levels';
      const message = read(err, 'message');
      return 'U' + cap(message === undefined ? safeString(err) : message, 1000);
    }
  };

  const runMain = async (ns: Any): Promise<void> => {
    let main: unknown;
    try {
      main = ns.default;
    } catch {
      outcome = { __proto__: null, kind: 'invalid', message: 'the default export was not initialised when the module finished loading' };
      return;
    }
    if (typeof main !== 'function') {
      const message =
        main === undefined
          ? 'the script has no default export; add `export default async function (ctx) { … }`'
          : 'the default export is ' + typeof main + ', not a function; export `async function (ctx) { … }`';
      outcome = { __proto__: null, kind: 'invalid', message };
      return;
    }
    try {
      outcome = { __proto__: null, kind: 'value', value: await (main as (ctx: unknown) => unknown)(makeCtx()) };
    } catch (err) {
      outcome = { __proto__: null, kind: 'error', error: err };
    }
  };

  // The outcome goes back through `send`, not as the resolution of a promise the child awaits:
  // isolated-vm would subscribe to that promise with `.catch`, which calls the (user-patchable)
  // Promise.prototype.then with isolated-vm's own handlers as arguments, and would read a
  // rejection itself.
  const start = (): void => {
    if (moduleNs === undefined) return;
    void (async () => {
      await runMain(moduleNs);
      send('settled', outcome.kind);
    })();
  };

  // The module threw while loading: its top-level code, rebuilt as an async function by the
  // child (top-level-replay.ts), runs once more here, silently, so what it throws can be caught.
  const replay = (fn: Any): void => {
    if (typeof fn !== 'function' || moduleNs !== undefined) return;
    replaying = true;
    void (async () => {
      try {
        await fn();
        outcome = { __proto__: null, kind: 'invalid', message: 'the top-level code did not throw when run again' };
      } catch (err) {
        outcome = { __proto__: null, kind: 'error', error: err };
      }
      replaying = false;
      send('settled', outcome.kind);
    })();
  };

  /** Turns the outcome into its bounded string, reading the script's values (getters, toJSON…) here. */
  const describeOutcome = (): void => {
    if (outcome === undefined) return;
    const o = outcome;
    outcome = undefined;
    send('done', o.kind === 'value' ? resultOutcome(o.value) : o.kind === 'error' ? errorOutcome(o.error) : 'I' + o.message);
  };

  const deliver = (id: number, ok: boolean, payload: string | undefined, code: string | undefined): void => {
    const entry = pending[id];
    if (entry === undefined) return;
    ReflectDeleteProperty(pending, id);
    if (ok) {
      entry.resolve(payload === undefined ? undefined : JSONparse(payload));
      return;
    }
    const message = safeString(payload);
    const err = new ErrorCtor(message);
    if (code !== undefined) ObjectDefineProperty(err, 'code', { __proto__: null, value: code, writable: true, configurable: true, enumerable: true });
    let siteStack: unknown;
    try {
      siteStack = entry.site === undefined ? undefined : entry.site.stack;
    } catch {
      siteStack = undefined;
    }
    if (typeof siteStack === 'string') {
      const nl: number = ReflectApply(StringIndexOf, siteStack, ['\n']);
      const frames: string = nl < 0 ? '' : ReflectApply(StringSlice, siteStack, [nl]);
      ObjectDefineProperty(err, 'stack', { __proto__: null, value: 'Error: ' + message + frames, writable: true, configurable: true, enumerable: false });
    }
    entry.reject(err);
  };

  return function dispatch(kind: string, a: Any, b: Any, c: Any, d: Any): void {
    guard();
    if (kind === 'start') start();
    else if (kind === 'deliver') deliver(a, b, c, d);
    else if (kind === 'describe') describeOutcome();
    else if (kind === 'replay') replay(a);
    else if (kind === 'dropped') send('dropped', dropped);
  };
}
