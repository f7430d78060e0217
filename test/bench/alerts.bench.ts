/**
 * Alerts benchmark (`npm run bench -- alerts`), loopback only, about 1-2 minutes.
 *
 * The whole real path of test/e2e/alert-chain.ts, repeated ROUNDS times (BENCH_ALERTS_ROUNDS,
 * default 10): the canary (30 % of the traffic) starts answering 500s → Prometheus, scraping
 * HAProxy's exporter every second and evaluating the rule every EVALUATION_INTERVAL, fires →
 * Alertmanager (group_wait GROUP_WAIT) → Veer's webhook stores `alert.firing` → the rollback
 * hook runs → weights at stable 100 in the KV store → HAProxy serves stable only; and the
 * `gateway.rolled_back` event stored → the notifier's receiver has it.
 *
 * Printed: p50 / p99 / max of each hop and of the two spans the issue names, beside the
 * intervals that bound them, set in this same run: Prometheus' evaluation interval (and its
 * 1 s scrape; the rule's rate() needs two scrapes of failures) and Alertmanager's group_wait,
 * which a new alert group waits before its first notification.
 */
import { EVALUATION_INTERVAL_S, GROUP_WAIT_S, startAlertChain, type RoundTimes } from '../e2e/alert-chain.ts';

const ROUNDS = Number(process.env.BENCH_ALERTS_ROUNDS ?? 10);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

const HOPS: Array<[string, (r: RoundTimes) => number]> = [
  ['canary failing → Prometheus firing', (r) => r.firing - r.failing],
  ['Prometheus firing → in Alertmanager', (r) => r.inAlertmanager - r.firing],
  ['Alertmanager → alert.firing stored', (r) => r.stored - r.inAlertmanager],
  ['alert.firing stored → hook run started', (r) => r.runStarted - r.stored],
  ['hook run started → weights at stable (KV)', (r) => r.atStable - r.runStarted],
  ['weights at stable → HAProxy serves stable only', (r) => r.servedStable - r.atStable],
  ['ALERT IN ALERTMANAGER → WEIGHTS AT STABLE', (r) => r.atStable - r.inAlertmanager],
  ['ALERT IN ALERTMANAGER → HAPROXY STABLE ONLY', (r) => r.servedStable - r.inAlertmanager],
  ['EVENT STORED → NOTIFIER DELIVERED (gateway.rolled_back)', (r) => r.notified - r.atStable],
  ['canary failing → HAProxy stable only (whole path)', (r) => r.servedStable - r.failing],
];

const chain = await startAlertChain();
const rounds: RoundTimes[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    const r = await chain.round();
    rounds.push(r);
    console.log(
      `round ${i + 1}/${ROUNDS}: alert in Alertmanager → stable ${r.atStable - r.inAlertmanager} ms, rolled_back stored → delivered ${r.notified - r.atStable} ms`,
    );
  }
} finally {
  await chain.stop();
}

console.log(
  `\nalerts: ${rounds.length} rounds; Prometheus scrape 1 s, evaluation_interval ${EVALUATION_INTERVAL_S} s; Alertmanager group_wait ${GROUP_WAIT_S} s`,
);
console.log('hop'.padEnd(58), 'p50'.padStart(8), 'p99'.padStart(8), 'max'.padStart(8));
for (const [name, of] of HOPS) {
  const xs = rounds.map(of);
  console.log(name.padEnd(58), `${pct(xs, 50)} ms`.padStart(8), `${pct(xs, 99)} ms`.padStart(8), `${Math.max(...xs)} ms`.padStart(8));
}
console.log(`baseline (set in this run): evaluation_interval ${EVALUATION_INTERVAL_S * 1000} ms, group_wait ${GROUP_WAIT_S * 1000} ms`);
