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
 * Removed: SharedArrayBuffer, Atomics, WebAssembly (see below). Never present: process,
 * require, import of any module (the linker refuses; dynamic import() rejects), timers, fetch.
 */

/*
 * The value the dispatcher returns from 'start': a tag letter, then data (written as
 * literals inside the isolate, where no host constant can be referenced):
 *   'R' + JSON of the result ('' when the result is undefined)
 *   'E' + JSON {name, message, stack, code}
 *   'T' + the lower bound of the size in characters
 *   'I' + message
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
}

/** Source for `context.evalClosure`: `$0` is the send Callback, `$1` the BridgeSetup as JSON. */
export function bridgeSource(): string {
  return `return (${bridge.toString()})($0, $1);`;
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
  const ObjectDefineProperty: (o: Any, k: string, d: Any) => Any = G.Object.defineProperty;
  const ReflectApply: (f: Any, t: Any, a: Any) => Any = G.Reflect.apply;
  const ReflectDeleteProperty: (o: Any, k: string | number) => boolean = G.Reflect.deleteProperty;
  const StringSlice = G.String.prototype.slice;
  const StringIndexOf = G.String.prototype.indexOf;
  const ErrorCaptureStackTrace: (target: object, fn: (...args: never[]) => unknown) => void = G.Error.captureStackTrace;
  const StringCtor: (v: unknown) => string = G.String;
  const ErrorCtor: new (m: string) => Any = G.Error;
  const TypeErrorCtor: new (m: string) => Any = G.TypeError;
  const PromiseCtor: new (executor: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void) => Promise<unknown> = G.Promise;
  const NumberIsFinite: (v: unknown) => boolean = G.Number.isFinite;

  const setup: BridgeSetup = JSONparse(setupJson);
  const TOO_LARGE = ObjectFreeze(ObjectCreate(null));

  // Nothing the scripts need, and each can block or escape accounting: Atomics.wait blocks the
  // thread where CPU polling cannot see it, and wasm memory lives outside the V8 heap limit.
  ReflectDeleteProperty(G, 'SharedArrayBuffer');
  ReflectDeleteProperty(G, 'Atomics');
  ReflectDeleteProperty(G, 'WebAssembly');

  const slice = (s: string, end: number): string => ReflectApply(StringSlice, s, [0, end]);

  const safeString = (v: unknown): string => {
    try {
      return typeof v === 'string' ? v : StringCtor(v);
    } catch {
      return '[unprintable value]';
    }
  };

  /**
   * JSON.stringify that gives up (throws TOO_LARGE, leaving the size seen so far in `overflow`)
   * once the output is surely over `budget`, before building a huge string. The running count is
   * a lower bound (keys and punctuation are not counted); the child checks the exact bytes.
   */
  let overflow = 0;
  const toJson = (value: unknown, budget: number): string | undefined => {
    let used = 0;
    const replacer = function (_key: string, v: unknown): unknown {
      used += typeof v === 'string' ? v.length + 2 : 1;
      if (used > budget) {
        overflow = used;
        throw TOO_LARGE;
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
  const log = (level: string, message: unknown, fields: unknown): void => {
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
        fieldsJson = toJson(fields, setup.maxLogFieldsChars);
      } catch (err) {
        const why =
          err === TOO_LARGE ? 'fields larger than ' + setup.maxLogFieldsChars + ' characters were dropped' : describe('fields could not be serialised: ', err);
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
    // An async function so that argument errors reject rather than throw synchronously.
    const fn = async function (...args: unknown[]): Promise<unknown> {
      // The user's frames at the call, so that a host error points at the line that called it.
      const site = new ErrorCtor('');
      ErrorCaptureStackTrace(site, fn);
      // `return await`, not `return`: resolving an async function with a promise looks up that
      // promise's (user-patchable) `then`; awaiting it does not.
      return await hostCall(capability, method, args, site);
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

  // ---- outcome -----------------------------------------------------------------------------
  const read = (o: Any, key: string): string | undefined => {
    try {
      const v = o[key];
      return v === undefined || v === null ? undefined : safeString(v);
    } catch {
      return undefined;
    }
  };

  const errorOutcome = (err: unknown): string => {
    let data: Any;
    if (err !== null && (typeof err === 'object' || typeof err === 'function')) {
      const message = read(err, 'message');
      const stack = read(err, 'stack');
      const code = read(err, 'code');
      data = {
        __proto__: null,
        name: read(err, 'name'),
        message: message === undefined ? describe('', err) : slice(message, 8192),
        stack: stack === undefined ? undefined : slice(stack, 16384),
        code: code === undefined ? undefined : slice(code, 200),
      };
    } else {
      data = { __proto__: null, name: undefined, message: describe('a non-error value was thrown: ', err), stack: undefined, code: undefined };
    }
    return 'E' + JSONstringify(data);
  };

  const runMain = async (ns: Any): Promise<string> => {
    let main: unknown;
    try {
      main = ns.default;
    } catch {
      return 'I' + 'the default export was not initialised when the module finished loading';
    }
    if (typeof main !== 'function') {
      return (
        'I' +
        (main === undefined
          ? 'the script has no default export; add `export default async function (ctx) { … }`'
          : 'the default export is ' + typeof main + ', not a function; export `async function (ctx) { … }`')
      );
    }
    let value: unknown;
    try {
      value = await (main as (ctx: unknown) => unknown)(makeCtx());
    } catch (err) {
      return errorOutcome(err);
    }
    try {
      const json = toJson(value, setup.maxResultChars);
      return 'R' + (json ?? '');
    } catch (err) {
      if (err === TOO_LARGE) return 'T' + overflow;
      return errorOutcome(err);
    }
  };

  // The outcome goes back through `send`, not as the resolution of a promise the child awaits:
  // isolated-vm would subscribe to that promise with `.catch`, which calls the (user-patchable)
  // Promise.prototype.then with isolated-vm's own handlers as arguments.
  const start = (ns: Any): void => {
    void (async () => {
      let out: string;
      try {
        out = await runMain(ns);
      } catch (err) {
        out = errorOutcome(err);
      }
      send('done', out);
    })();
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

  return function dispatch(kind: string, a: Any, b: Any, c: Any, d: Any): Any {
    if (kind === 'start') return start(a);
    if (kind === 'deliver') return deliver(a, b, c, d);
    if (kind === 'dropped') return dropped;
    return undefined;
  };
}
