import { createRoute, z } from '@hono/zod-openapi';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { RUN_STATUSES } from '../../engine/domain/run.ts';
import type { Coordination } from '../../engine/ports/coordination.ts';
import type { RunQueue } from '../../engine/ports/run-queue.ts';
import { DURATION_BUCKETS, type RunStats } from '../../engine/ports/run-stats.ts';
import { LATENESS_BUCKETS } from '../../engine/domain/trigger-record.ts';
import type { TriggerHistory } from '../../engine/ports/trigger-history.ts';
import { createRouter } from '../validation.ts';

export interface HealthDeps {
  /** Its `ping` is the store check, its engine registry the engines check. */
  coordination: Pick<Coordination, 'ping' | 'engines'>;
  queue: Pick<RunQueue, 'counts'>;
  stats: Pick<RunStats, 'read'>;
  /** Skip counters and cron lateness (absent: not served). */
  triggers?: Pick<TriggerHistory, 'skippedCounts' | 'cronLateness'>;
  /** Extra readiness checks from other components (name → ok/why). */
  checks?: Record<string, () => Promise<{ ok: boolean; detail?: string }>>;
}

/** How long /readyz waits for the store to answer: a probe must answer even when the store hangs. */
const PING_TIMEOUT_MS = 2000;

/** /healthz, /readyz and /metrics, at the root (outside /api/v1 and its auth). */
export function createHealthRoutes(deps: HealthDeps) {
  const r = createRouter();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'veer_' });

  new Gauge({
    name: 'veer_runs_finished_total',
    help: 'Runs that reached a final status, by status (all engines)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const s = await deps.stats.read();
      for (const st of RUN_STATUSES) if (st !== 'queued' && st !== 'running') this.set({ status: st }, s.byStatus[st] ?? 0);
    },
  });
  new Gauge({
    name: 'veer_queue_jobs',
    help: 'Run jobs in the queue, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const c = await deps.queue.counts();
      for (const [state, n] of Object.entries(c)) this.set({ state }, n);
    },
  });

  r.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      summary: 'The process is up',
      responses: { 200: { description: 'Up', content: { 'application/json': { schema: z.object({ ok: z.boolean() }) } } } },
    }),
    (c) => c.json({ ok: true }, 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      summary: 'Redis answers and at least one engine has a healthy worker (blocking connection included)',
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: z.object({ ok: z.boolean(), checks: z.record(z.string(), z.unknown()) }) } } },
        503: {
          description: 'Not ready; `checks` says what is wrong',
          content: { 'application/json': { schema: z.object({ ok: z.boolean(), checks: z.record(z.string(), z.unknown()) }) } },
        },
      },
    }),
    async (c) => {
      const checks: Record<string, { ok: boolean; detail?: string }> = {};
      // The check keeps the name `redis`: the coordination store is Redis, and clients read it by that name.
      try {
        await deps.coordination.ping(PING_TIMEOUT_MS);
        checks.redis = { ok: true };
        const list = await deps.coordination.engines.list();
        const healthy = list.filter((e) => e.healthy);
        checks.engines =
          list.length === 0
            ? { ok: false, detail: 'no engine is running (start one with `npm run engine`)' }
            : { ok: healthy.length === list.length, detail: `${healthy.length}/${list.length} engines have a healthy worker and blocking Redis connection` };
      } catch (err) {
        checks.redis = { ok: false, detail: `Redis unreachable: ${(err as Error).message}` };
      }
      for (const [name, check] of Object.entries(deps.checks ?? {})) {
        checks[name] = await check().catch((err: Error) => ({ ok: false, detail: err.message }));
      }
      const ok = Object.values(checks).every((x) => x.ok);
      return c.json({ ok, checks }, ok ? 200 : 503);
    },
  );

  r.get('/metrics', async (c) => {
    const s = await deps.stats.read().catch(() => undefined);
    let text = await registry.metrics();
    if (s) {
      // prom-client cannot load a histogram from shared counters, so this one is written by hand.
      text += '# HELP veer_run_duration_seconds Run duration from start to end (all engines)\n# TYPE veer_run_duration_seconds histogram\n';
      DURATION_BUCKETS.forEach((b, i) => (text += `veer_run_duration_seconds_bucket{le="${b}"} ${s.buckets[i]}\n`));
      text += `veer_run_duration_seconds_bucket{le="+Inf"} ${s.count}\nveer_run_duration_seconds_sum ${s.sum}\nveer_run_duration_seconds_count ${s.count}\n`;
    }
    text += await triggerMetrics(deps.triggers).catch(() => '');
    return c.text(text, 200, { 'content-type': registry.contentType });
  });

  return r;
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Counters kept in the shared store across every process, written by hand like the run histogram. */
async function triggerMetrics(triggers: HealthDeps['triggers']): Promise<string> {
  if (!triggers) return '';
  const [skipped, late] = await Promise.all([triggers.skippedCounts(), triggers.cronLateness()]);
  let text =
    '# HELP veer_trigger_skipped_total Triggers that started no run, by workflow and reason (all engines)\n# TYPE veer_trigger_skipped_total counter\n';
  for (const s of skipped) text += `veer_trigger_skipped_total{workflow="${label(s.workflow)}",reason="${label(s.reason)}"} ${s.count}\n`;
  text += '# HELP veer_cron_lateness_seconds Cron tick time to run started (first attempts, catch-up excluded)\n# TYPE veer_cron_lateness_seconds histogram\n';
  LATENESS_BUCKETS.forEach((b, i) => (text += `veer_cron_lateness_seconds_bucket{le="${b}"} ${late.buckets[i] ?? 0}\n`));
  text += `veer_cron_lateness_seconds_bucket{le="+Inf"} ${late.count}\nveer_cron_lateness_seconds_sum ${late.sum}\nveer_cron_lateness_seconds_count ${late.count}\n`;
  return text;
}
