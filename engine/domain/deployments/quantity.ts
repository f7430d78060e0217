import { invalid } from './errors.ts';

/**
 * Memory and cpu quantities. Veer's port carries memory as bytes; requests may use
 * Kubernetes quantity strings ('256Mi', '1G', '512M', '1.5Gi') or a plain number of bytes.
 */
const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/** Bytes from a number (bytes) or a quantity string; undefined when the input is not one. */
export function memoryBytes(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  // Trim first: `\s*` on both sides of a greedy number backtracks quadratically on long blank runs.
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(value.trim());
  if (!m || !(m[2] in MEMORY_UNITS)) return undefined;
  return Math.round(Number(m[1]) * MEMORY_UNITS[m[2]]);
}

/** Like memoryBytes, but throws SCHEDULER.INVALID naming the driver. */
export function parseMemory(driver: string, value: number | string): number {
  const bytes = memoryBytes(value);
  if (bytes === undefined || bytes <= 0) {
    throw invalid(driver, `memory ${JSON.stringify(value)} is not a positive number of bytes or a quantity like '256Mi' or '1G'`);
  }
  return bytes;
}

/** Cores → the canonical Kubernetes form ('250m', '2'). */
export function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes → the canonical Kubernetes form, in Mi when exact, else plain bytes. */
export function formatMemory(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)}Mi` : String(bytes);
}
