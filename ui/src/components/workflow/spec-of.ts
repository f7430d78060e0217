import type { WorkflowDoc } from './types.ts';

/** The request body of PUT /workflows/{name} (WorkflowSpec: a strict schema) from a stored version, with a new script. */
export function specWithScript(wf: WorkflowDoc, script: string) {
  const { description, trigger, env, limits, retries, overlap, overlapQueue, enabled, permissions, labels, annotations } = wf;
  return {
    script,
    ...(description === undefined ? {} : { description }),
    ...(trigger === undefined ? {} : { trigger }),
    ...(overlap === undefined ? {} : { overlap }),
    env,
    limits,
    retries,
    overlapQueue,
    enabled,
    permissions,
    labels,
    annotations,
  };
}
