import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../engine/shared/logger.ts';
import { parseLogLine, type GatewayLogRecord } from './log-line.ts';
import { configPath, LOG_RING } from './render.ts';
import type { RuntimeApi } from './runtime-api.ts';

/**
 * Gateway metrics come from HAProxy's UDP log, which nobody receives while the agent is down:
 * HAProxy goes on serving, and what it served is lost. HAProxy also keeps the same lines in a
 * ring in its memory (render.ts `LOG_RING`), and every line carries HAProxy's pid and request
 * number (log-line.ts `seq`). This module remembers, in a file in the agent's dir, which request
 * numbers were handed on (`track`), and on start reads the ring (`show events`) and hands on
 * the lines no agent did (`recover`).
 *
 * Bounds: only the current HAProxy process's ring is readable (lines an old, still-draining
 * process logged while the agent was down are lost); the ring holds ~40 000 lines (older ones
 * are overwritten); and a line counted by a sink that died before writing it is not retried.
 */
export interface LogBackfill {
  /** Wraps the log consumer: notes each batch's request numbers (saved at once) and hands it on. */
  track(consume: Consumer): Consumer;
  /** Hands the lines of HAProxy process `pid`'s ring that no agent handed on to `consume`; returns how many. */
  recover(api: RuntimeApi, pid: number | undefined, consume: Consumer): Promise<number>;
}

type Consumer = (records: GatewayLogRecord[]) => void | Promise<void>;

interface ProcessCursor {
  /** Highest request number handed on. */
  max: number;
  /** Numbers below `max` (within WINDOW) not seen yet: logged late (long requests) or lost in UDP. */
  missing: Set<number>;
}

/** How far below the highest request number a late line is still recognised. */
const WINDOW = 10_000;
/** Cursors kept: the current HAProxy process and a few draining or restarted ones. */
const PROCESSES = 4;
const BATCH = 500;
/** Request numbers past the highest recovered one after which no recovered line can still arrive live. */
const RECOVERED_OVERLAP = 1_000;

export function createLogBackfill(o: { dir: string; logger: Logger }): LogBackfill {
  const file = join(o.dir, 'log-cursor.json');
  const log = o.logger.child({ component: 'gateway-log-backfill' });
  const cursors = load(file);
  // What the previous agent handed on, fixed before live lines move the cursors.
  const previous = cursors && new Map([...cursors].map(([pid, c]) => [pid, { max: c.max, missing: new Set(c.missing) }]));
  const current = cursors ?? new Map<number, ProcessCursor>();
  let liveSeen: Set<string> | undefined = new Set();

  const note = (r: GatewayLogRecord) => {
    if (!r.seq) return;
    const { pid, n } = r.seq;
    liveSeen?.add(`${pid}:${n}`);
    let c = current.get(pid);
    if (!c) {
      c = { max: n, missing: new Set() };
      current.set(pid, c);
      while (current.size > PROCESSES) current.delete(current.keys().next().value!);
      return;
    }
    if (n > c.max) {
      for (let k = Math.max(c.max + 1, n - WINDOW); k < n; k++) c.missing.add(k);
      c.max = n;
      for (const k of c.missing) if (k < n - WINDOW) c.missing.delete(k);
    } else c.missing.delete(n);
  };

  const save = () => {
    const data = Object.fromEntries([...current].map(([pid, c]) => [pid, { max: c.max, missing: [...c.missing] }]));
    try {
      // Synchronous: the cursor must be on disk before the batch is handed on, or a crash counts it twice.
      writeFileSync(`${file}.tmp`, JSON.stringify(data));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      log.warn({ err }, 'could not save the log cursor');
    }
  };

  const handOn = (consume: Consumer, records: GatewayLogRecord[]) => {
    records.forEach(note);
    save();
    return consume(records);
  };
  // Lines recovered from the ring may still be on their way over UDP (logged before the ring was
  // read, received after): those live copies are dropped, or they would count twice. Kept until
  // the live log is well past the recovered numbers.
  let recovered: { pid: number; numbers: Set<number>; max: number } | undefined;
  const notRecovered = (r: GatewayLogRecord) => {
    if (!recovered || !r.seq || r.seq.pid !== recovered.pid) return true;
    if (r.seq.n > recovered.max + RECOVERED_OVERLAP) recovered = undefined;
    return !recovered?.numbers.has(r.seq.n);
  };
  const track =
    (consume: Consumer): Consumer =>
    (records) =>
      handOn(consume, recovered ? records.filter(notRecovered) : records);

  return {
    track,
    async recover(api, pid, consume) {
      try {
        // No cursor file: nothing tells what was handed on, so nothing is recovered (never counted twice).
        if (!previous || pid === undefined) return 0;
        const before = previous.get(pid);
        const dump = await api.send([`show events ${LOG_RING}`], 10_000);
        const missed = dump
          .split('\n')
          .map(parseLogLine)
          .filter((r): r is GatewayLogRecord => !!r?.seq && r.seq.pid === pid)
          .filter((r) => !before || r.seq!.n > before.max || before.missing.has(r.seq!.n))
          .filter((r) => !liveSeen?.has(`${pid}:${r.seq!.n}`));
        for (let i = 0; i < missed.length; i += BATCH) await handOn(consume, missed.slice(i, i + BATCH));
        if (missed.length) recovered = { pid, numbers: new Set(missed.map((r) => r.seq!.n)), max: missed.reduce((m, r) => Math.max(m, r.seq!.n), 0) };
        if (missed.length) log.info({ lines: missed.length, pid }, 'handed on traffic HAProxy served while no agent received its log');
        return missed.length;
      } finally {
        liveSeen = undefined;
      }
    },
  };
}

/**
 * The UDP log port of the config a previous agent left in `dir`: an agent taking that HAProxy
 * over listens there again, so the lines it sends before the first reload are not lost.
 */
export function previousLogPort(dir: string): number | undefined {
  try {
    const m = /^\s*log 127\.0\.0\.1:(\d+) /m.exec(readFileSync(configPath(dir), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function load(file: string): Map<number, ProcessCursor> | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { max: number; missing: number[] }>;
    return new Map(Object.entries(data).map(([pid, c]) => [Number(pid), { max: c.max, missing: new Set(c.missing) }]));
  } catch {
    return undefined;
  }
}
