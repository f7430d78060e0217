import type { Cron } from 'croner';
import { isCronTrigger, type Workflow } from '../domain/workflow.ts';
import type { TriggerState } from '../ports/trigger-state.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';
import type { RunLauncher } from '../runs/launcher.ts';
import type { Logger } from '../shared/logger.ts';
import { parseCron } from './cron-expression.ts';
import type { RunStore } from '../ports/run-store.ts';
import type { TriggerRecorder } from './trigger-recorder.ts';
import { createTickHeap } from './tick-heap.ts';

/** Missed ticks counted at most (the record then says "at least"). */
const MAX_MISSED_COUNT = 100_000;
/**
 * Ticks this recent are not counted as missed: a live replica may be firing one right now
 * (a second engine starting, or every replica re-registering an edited workflow), and
 * firing takes milliseconds; a real outage loses at most these few from the count.
 */
const MISSED_GRACE_MS = 2000;
const MISSED_DEDUPE_TTL_MS = 7 * 24 * 3600_000;
/** Workflows registered at once when many are new (an engine starting): two Redis calls each. */
const REGISTER_BATCH = 64;

/**
 * Cron triggers. Every engine replica runs this scheduler and, at each tick, asks the
 * launcher to start a run under the dedupe key `cron:<tick ISO time>`: the first replica
 * wins, the others get "duplicate". No single owner, nothing to fail over, and no
 * BullMQ job-scheduler upserts racing at boot (see README "Cron: why this design").
 *
 * Catch-up: the last fired tick per workflow is kept in the trigger state (`cron.lastTick`). When a scheduler starts
 * (or first sees a workflow) and ticks were missed while no engine ran, policy `latest`
 * fires the most recent missed tick once, if it is within the catch-up window; `none`
 * skips them. Missed ticks are recorded as one `missed` skip either way.
 *
 * The same holds for ticks lost while the engines ran but Redis did not answer (a launch or
 * its record failed): the first tick fired after the outage records the ones in between as
 * `missed` (it is itself the catch-up), and when no tick is due soon, the next refresh applies
 * the catch-up policy as at start-up. Before, such ticks were only logged.
 *
 * Cost: each registration's next tick sits in a min-heap (tick-heap.ts), so a wake-up looks
 * only at what is due, and each fired tick costs one croner call (~50 µs) and O(log N) heap
 * work; an idle second costs nothing per workflow. (Before, every wake-up — at least once a
 * second — asked croner about every workflow, twice: about a second of CPU per second per
 * engine at 10,000 workflows; see test/bench/cron-scale.bench.ts.) A change message refreshes
 * only the workflow it names; the full re-read every `refreshMs` is the safety net for
 * messages lost while the subscriber was reconnecting.
 */
export interface CronScheduler {
  start(): Promise<void>;
  /** Re-reads the workflows (also done on every workflow change and every `refreshMs`). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

export interface Clock {
  now(): number;
}

interface Registration {
  key: string; // name + version + expression, so an edit re-registers
  name: string;
  cron: Cron;
  cursor: Date;
  /** The last tick known recorded; set when a launch (or its record) failed, until ticks are accounted again. */
  lostAfter?: number;
  /** The last tick this scheduler recorded (or the stored one at registration). */
  lastRecorded: number;
  /** The tick this registration's heap entry is for (undefined: the schedule has no more ticks). */
  next?: number;
}

export function createCronScheduler(options: {
  triggers: Pick<TriggerState, 'cron'>;
  /** With `get`, a change message re-reads only the workflow it names; without, everything. */
  workflows: Pick<WorkflowStore, 'list' | 'subscribe'> & Partial<Pick<WorkflowStore, 'get'>>;
  launcher: RunLauncher;
  logger: Logger;
  catchUp: 'latest' | 'none';
  catchUpWindowMs: number;
  refreshMs?: number;
  clock?: Clock;
  /** Records missed ticks (absent: not recorded). */
  recorder?: TriggerRecorder;
  /** Where the once-only claim of a missed-ticks record is made. */
  runs?: Pick<RunStore, 'claimDedupe'>;
}): CronScheduler {
  const { workflows, launcher, logger } = options;
  const ticks = options.triggers.cron;
  const clock = options.clock ?? { now: () => Date.now() };
  const regs = new Map<string, Registration>();
  /** Next ticks; an entry is live while its registration is current and still due at that time. */
  const heap = createTickHeap<Registration>();
  let timer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let stopped = true;
  let firing = Promise.resolve();
  /** Refreshes run one at a time (two interleaved could both register a workflow). */
  let refreshing: Promise<void> = Promise.resolve();
  let fullRefreshQueued: Promise<void> | undefined;

  async function fire(reg: Registration, tick: Date, catchUp: boolean): Promise<void> {
    const iso = tick.toISOString();
    let launched = false;
    try {
      // After an outage: where ticks were last accounted for, read before this tick moves it.
      const lostFrom = reg.lostAfter === undefined ? undefined : Math.max(reg.lostAfter, (await ticks.lastTick(reg.name)) ?? reg.lostAfter);
      const res = await launcher.start(reg.name, { trigger: { type: 'cron', tick: iso, ...(catchUp ? { catchUp } : {}) }, dedupeKey: `cron:${iso}` });
      launched = true;
      await ticks.recordTick(reg.name, tick.getTime());
      reg.lastRecorded = Math.max(reg.lastRecorded, tick.getTime());
      if (lostFrom !== undefined) {
        reg.lostAfter = undefined;
        await recordMissed(reg, reg.cron, lostFrom, tick.getTime() - 1, tick);
      }
      if (res.started) logger.info({ workflow: reg.name, tick: iso, runId: res.run.id, catchUp }, 'cron tick started a run');
      else logger.debug({ workflow: reg.name, tick: iso, reason: res.reason }, 'cron tick did not start a run');
    } catch (err) {
      // Launched but not recorded: this tick ran, so only later ones can be missed.
      reg.lostAfter ??= launched ? tick.getTime() : reg.lastRecorded;
      logger.error({ err, workflow: reg.name, tick: iso }, 'cron tick failed to start a run; it is recorded as missed once Redis answers');
    }
  }

  /** Missed ticks since `last` up to now: recorded, and the latest caught up when the policy and window allow. */
  async function catchUpSince(reg: Registration, last: number, now: Date): Promise<void> {
    const latest = latestBetween(reg.cron, new Date(last), now);
    let caughtUp: Date | undefined;
    if (latest && options.catchUp === 'latest' && now.getTime() - latest.getTime() <= options.catchUpWindowMs) caughtUp = latest;
    await recordMissed(reg, reg.cron, last, now.getTime() - MISSED_GRACE_MS, caughtUp);
    if (caughtUp) await fire(reg, caughtUp, true);
  }

  /** A registration whose ticks were lost and no tick has fired since: account for them now (each refresh). */
  async function recoverLost(reg: Registration): Promise<void> {
    if (reg.lostAfter === undefined) return;
    const stored = await ticks.lastTick(reg.name);
    const from = Math.max(reg.lostAfter, stored ?? reg.lostAfter);
    reg.lostAfter = undefined; // a failing fire below sets it again
    await catchUpSince(reg, from, new Date(clock.now()));
  }

  /**
   * Ticks in (last, until] that no engine fired and catch-up does not fire, as one `missed` skip.
   * Recorded once across replicas (a dedupe claim on the last recorded tick), counted up to
   * MAX_MISSED_COUNT (a per-second schedule down for a week is still one record).
   */
  async function recordMissed(reg: Registration, cron: Cron, last: number, until: number, caughtUp: Date | undefined): Promise<void> {
    if (!options.recorder) return;
    let count = 0;
    let first: Date | undefined;
    let lastMissed: Date | undefined;
    for (let t = cron.nextRun(new Date(last)); t && t.getTime() <= until && count < MAX_MISSED_COUNT; t = cron.nextRun(t)) {
      if (caughtUp && t.getTime() === caughtUp.getTime()) continue;
      first ??= t;
      lastMissed = t;
      count++;
    }
    if (count === 0 || !first || !lastMissed) return;
    try {
      if (options.runs) {
        const claim = await options.runs.claimDedupe(reg.name, `missed:${last}`, 'skipped:missed', MISSED_DEDUPE_TTL_MS);
        if (!claim.claimed) return;
      }
      await options.recorder.skipped(reg.name, 'cron', 'missed', { count, from: first.toISOString(), to: lastMissed.toISOString() });
    } catch (err) {
      logger.warn({ err, workflow: reg.name }, 'could not record missed cron ticks');
    }
  }

  async function register(wf: Workflow & { trigger: { cron: string; timezone: string } }): Promise<Registration> {
    const cron = parseCron(wf.trigger.cron, wf.trigger.timezone);
    const now = new Date(clock.now());
    const last = await ticks.lastTick(wf.name);
    const reg: Registration = {
      key: `${wf.name}@${wf.version}:${wf.trigger.cron}:${wf.trigger.timezone}`,
      name: wf.name,
      cron,
      cursor: now,
      lastRecorded: last ?? now.getTime(),
    };
    if (last === undefined) await ticks.initTick(wf.name, now.getTime());
    else await catchUpSince(reg, last, now);
    return reg;
  }

  /** Makes `reg` the current registration and queues its next tick. */
  function add(reg: Registration): void {
    regs.set(reg.name, reg);
    reg.next = reg.cron.nextRun(reg.cursor)?.getTime();
    if (reg.next !== undefined) heap.push(reg.next, reg);
  }

  /** The earliest live heap entry, dropping stale ones (removed or re-registered workflows). */
  function liveTop(): { at: number; item: Registration } | undefined {
    for (let top = heap.peek(); top; top = heap.peek()) {
      if (regs.get(top.item.name) === top.item && top.item.next === top.at) return top;
      heap.pop();
    }
    return undefined;
  }

  /** Rebuilds the heap when stale entries (edits of rarely ticking workflows) outnumber live ones. */
  function compact(): void {
    if (heap.size <= 2 * regs.size + 1024) return;
    heap.clear();
    for (const reg of regs.values()) if (reg.next !== undefined) heap.push(reg.next, reg);
  }

  async function registerAll(list: Workflow[]): Promise<void> {
    for (let i = 0; i < list.length; i += REGISTER_BATCH) {
      await Promise.all(
        list.slice(i, i + REGISTER_BATCH).map(async (wf) => {
          try {
            add(await register(wf as Workflow & { trigger: { cron: string; timezone: string } }));
          } catch (err) {
            logger.error({ err, workflow: wf.name }, 'cannot schedule workflow');
          }
        }),
      );
    }
  }

  /** Re-reads every workflow; queued behind a running refresh, and coalesced with one already queued. */
  function refresh(): Promise<void> {
    fullRefreshQueued ??= serially(async () => {
      fullRefreshQueued = undefined;
      await refreshAll();
    });
    return fullRefreshQueued;
  }

  function serially(work: () => Promise<void>): Promise<void> {
    const run = refreshing.then(work);
    refreshing = run.catch(() => undefined);
    return run;
  }

  async function refreshAll(): Promise<void> {
    const all = await workflows.list();
    const wanted = new Map<string, Workflow>();
    // Disabled and paused workflows keep their schedule: each tick reaches the launcher, which refuses it visibly.
    for (const wf of all) if (isCronTrigger(wf.trigger)) wanted.set(wf.name, wf);
    for (const [name, reg] of regs) {
      const wf = wanted.get(name);
      if (!wf || regKey(wf) !== reg.key) regs.delete(name);
    }
    for (const reg of regs.values())
      await recoverLost(reg).catch((err) => logger.warn({ err, workflow: reg.name }, 'could not account for lost cron ticks yet'));
    await registerAll([...wanted.values()].filter((wf) => !regs.has(wf.name)));
    compact();
    schedule();
  }

  /** A change message: only the named workflow is read again (when the store can read one). */
  async function refreshOne(name: string, get: NonNullable<typeof workflows.get>): Promise<void> {
    const wf = await get(name);
    const wanted = wf && isCronTrigger(wf.trigger) ? wf : undefined;
    const reg = regs.get(name);
    if (reg && (!wanted || regKey(wanted) !== reg.key)) regs.delete(name);
    if (wanted && !regs.has(name)) await registerAll([wanted]);
    schedule();
  }

  function onChange(name: string): void {
    const get = workflows.get?.bind(workflows);
    const work = get ? serially(() => refreshOne(name, get)) : refresh();
    void work.catch((err) => logger.error({ err, workflow: name }, 'cron refresh failed'));
  }

  function regKey(wf: Workflow): string {
    const t = wf.trigger as { cron: string; timezone: string };
    return `${wf.name}@${wf.version}:${t.cron}:${t.timezone}`;
  }

  /** Sleeps until the earliest next tick (at most 1 s, so clock jumps are noticed). */
  function schedule(): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    const top = liveTop();
    const wait = top ? Math.min(1000, Math.max(0, top.at - clock.now())) : 1000;
    timer = setTimeout(() => {
      firing = firing.then(tickDue).finally(schedule);
    }, wait);
  }

  /** Fires every registration whose next tick is due: its latest due tick, once (as one missed by a clock jump or a blocked loop). */
  async function tickDue(): Promise<void> {
    const now = clock.now();
    const due: Array<Promise<void>> = [];
    for (let top = liveTop(); top && top.at <= now; top = liveTop()) {
      heap.pop();
      const reg = top.item;
      let latest = top.at;
      let next = reg.cron.nextRun(new Date(latest))?.getTime();
      if (next !== undefined && next <= now) {
        // More than one tick went by since the cursor: only the latest fires, as at any wake-up.
        latest = latestBetween(reg.cron, reg.cursor, new Date(now))?.getTime() ?? latest;
        next = reg.cron.nextRun(new Date(latest))?.getTime();
      }
      reg.cursor = new Date(latest);
      reg.next = next;
      if (next !== undefined) heap.push(next, reg);
      due.push(fire(reg, new Date(latest), false));
    }
    await Promise.all(due);
  }

  return {
    async start() {
      stopped = false;
      unsubscribe = workflows.subscribe(onChange);
      refreshTimer = setInterval(() => void refresh().catch((err) => logger.error({ err }, 'cron refresh failed')), options.refreshMs ?? 5000);
      await refresh();
    },
    refresh,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (refreshTimer) clearInterval(refreshTimer);
      unsubscribe?.();
      await firing;
      await refreshing;
    },
  };
}

/** The latest tick in (after, until], or undefined; one backwards step, however long the outage. */
function latestBetween(cron: Cron, after: Date, until: Date): Date | undefined {
  // previousRuns is strictly before its reference, hence the extra millisecond.
  const [latest] = cron.previousRuns(1, new Date(until.getTime() + 1));
  return latest && latest.getTime() > after.getTime() ? latest : undefined;
}
