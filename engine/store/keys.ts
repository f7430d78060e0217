/**
 * The Redis key layout, in one place (documented in README "Redis key layout").
 * Every key starts with the configured prefix (VEER_REDIS_PREFIX, default `veer`).
 */
export interface Keys {
  workflowNames: string;
  workflow(name: string): string;
  workflowVersions(name: string): string;
  workflowsChanged: string;
  workflowRuns(name: string): string;
  workflowActive(name: string): string;
  workflowState(name: string): string;
  cronLastTick(name: string): string;
  dedupe(name: string, key: string): string;
  run(id: string): string;
  runLog(id: string): string;
  runLogSeq(id: string): string;
  runCancel: string;
  runEvents: string;
  stats: string;
  durations: string;
  engines: string;
  engine(id: string): string;
  /** BullMQ's own keys live under `<prefix>:q:<queue>:*`. */
  queuePrefix: string;
}

export function createKeys(prefix: string): Keys {
  const p = prefix;
  return {
    workflowNames: `${p}:workflows`,
    workflow: (n) => `${p}:wf:${n}`,
    workflowVersions: (n) => `${p}:wf:${n}:versions`,
    workflowsChanged: `${p}:workflows:changed`,
    workflowRuns: (n) => `${p}:wf:${n}:runs`,
    workflowActive: (n) => `${p}:wf:${n}:active`,
    workflowState: (n) => `${p}:wf:${n}:state`,
    cronLastTick: (n) => `${p}:wf:${n}:cron:last`,
    dedupe: (n, k) => `${p}:wf:${n}:dedupe:${k}`,
    run: (id) => `${p}:run:${id}`,
    runLog: (id) => `${p}:run:${id}:log`,
    runLogSeq: (id) => `${p}:run:${id}:logseq`,
    runCancel: `${p}:runs:cancel`,
    runEvents: `${p}:runs:events`,
    stats: `${p}:stats:runs`,
    durations: `${p}:stats:durations`,
    engines: `${p}:engines`,
    engine: (id) => `${p}:engine:${id}`,
    queuePrefix: `${p}:q`,
  };
}
