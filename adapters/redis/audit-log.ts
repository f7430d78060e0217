import type { Redis } from 'ioredis';
import type { AuditEntry, AuditEntryInput, AuditLog, AuditPage, AuditQuery } from '../../engine/ports/audit-log.ts';
import { ValidationError } from '../../engine/shared/errors.ts';
import { guarded } from './errors.ts';

export interface RedisAuditLogOptions {
  redis: Redis;
  /** The stream key (keys.audit). */
  key: string;
  /** Approximate number of entries kept (XADD MAXLEN ~, VEER_AUDIT_MAXLEN). */
  maxLen: number;
  /** Entries one query scans at most before answering with a cursor. Default 5000. */
  maxScan?: number;
}

/** Stream ids as Redis writes them: `<ms>-<seq>`. Cursors are ids, checked before use. */
const STREAM_ID = /^\d{1,16}-\d{1,16}$/;
const PAGE = 200;

/** Exact match, or `filter` is a prefix ending at a `/` (`workflow/canary` → its runs). */
function under(filter: string | undefined, value: string): boolean {
  if (filter === undefined || filter === '') return true;
  return value === filter || value.startsWith(filter.endsWith('/') ? filter : `${filter}/`);
}

function decode(id: string, fields: string[]): AuditEntry | undefined {
  const i = fields.indexOf('d');
  if (i < 0 || i % 2 !== 0) return undefined;
  try {
    const data = JSON.parse(fields[i + 1]) as AuditEntryInput;
    return { id, time: new Date(Number(id.slice(0, id.indexOf('-')))).toISOString(), ...data };
  } catch {
    return undefined;
  }
}

/**
 * The audit stream as a Redis Stream: one XADD per entry (the entry's time is Redis' clock,
 * from the id), trimmed approximately to `maxLen`; queries walk it newest first with
 * XREVRANGE from the cursor down to `since`, filtering here.
 */
export function createRedisAuditLog(o: RedisAuditLogOptions): AuditLog {
  const maxScan = o.maxScan ?? 5000;
  const log: AuditLog = {
    async append(entry) {
      const id = (await o.redis.xadd(o.key, 'MAXLEN', '~', String(o.maxLen), '*', 'd', JSON.stringify(entry))) as string;
      return decode(id, ['d', JSON.stringify(entry)]) as AuditEntry;
    },
    async query(q: AuditQuery): Promise<AuditPage> {
      if (q.cursor !== undefined && !STREAM_ID.test(q.cursor))
        throw new ValidationError('cursor: not a cursor this API returned', [{ path: 'cursor', message: 'expected the `next` of an earlier answer' }]);
      const low = q.since === undefined ? '-' : `${Math.max(0, Math.floor(q.since))}-0`;
      let high = q.cursor === undefined ? '+' : `(${q.cursor}`;
      const entries: AuditEntry[] = [];
      let scanned = 0;
      let last: string | undefined;
      while (scanned < maxScan) {
        const count = Math.min(PAGE, maxScan - scanned);
        const rows = (await o.redis.xrevrange(o.key, high, low, 'COUNT', count)) as Array<[string, string[]]>;
        for (const [id, fields] of rows) {
          scanned++;
          last = id;
          const e = decode(id, fields);
          if (e && under(q.actor, e.actor) && under(q.resource, e.resource)) entries.push(e);
          if (entries.length === q.limit) return { entries, next: id };
        }
        // Fewer than asked for: the stream (or the `since` bound) is reached.
        if (rows.length < count || last === undefined) return { entries };
        high = `(${last}`;
      }
      // Scan budget spent: answer what matched so far; the cursor continues below it.
      return last === undefined ? { entries } : { entries, next: last };
    },
  };
  return guarded('audit', log);
}
