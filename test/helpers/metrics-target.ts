import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsTarget {
  /** `127.0.0.1:<port>`, as a Prometheus scrape target. */
  target: string;
  /** Sets a counter's value, served from the next scrape on (`labels` pick one series). */
  set: (name: string, value: number, labels?: Record<string, string>) => void;
  /** Scrapes answered so far. */
  readonly scrapes: number;
  close: () => Promise<void>;
}

/**
 * A tiny exporter on a free loopback port: `GET /metrics` answers the counters set with `set`
 * in Prometheus' text format, so a test controls exactly what Prometheus scrapes.
 */
export async function startMetricsTarget(): Promise<MetricsTarget> {
  const series = new Map<string, { name: string; labels: string; value: number }>();
  let scrapes = 0;
  const server = createServer((req, res) => {
    req.resume();
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    const names = [...new Set([...series.values()].map((s) => s.name))];
    const body = names.flatMap((n) => [`# TYPE ${n} counter`, ...[...series.values()].filter((s) => s.name === n).map((s) => `${n}${s.labels} ${s.value}`)]);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body.map((l) => `${l}\n`).join(''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    set(name, value, labels = {}) {
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',');
      const l = text ? `{${text}}` : '';
      series.set(name + l, { name, labels: l, value });
    },
    get scrapes() {
      return scrapes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
