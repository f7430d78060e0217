import { z } from 'zod';
import type { ScaleRequest } from '../../ports/scheduler.ts';
import { formatIssues, issuesFromZod } from '../../shared/issues.ts';
import { invalid } from './errors.ts';
import { parseMemory } from './quantity.ts';

/** The scale body shared by the API and scripts: at least one field. */
export const ScaleRequestSchema = z
  .object({
    instances: z.number().int().min(0).max(10_000).optional().describe('desired number of instances'),
    cpu: z.number().positive().max(1024).optional().describe('cores per instance, e.g. 0.5'),
    memory: z
      .union([z.number().int().positive(), z.string().min(1).max(32)])
      .optional()
      .describe("bytes, or a quantity like '256Mi' or '1G'"),
  })
  .strict()
  .refine((r) => r.instances !== undefined || r.cpu !== undefined || r.memory !== undefined, {
    message: 'give at least one of instances, cpu, memory',
  });

/** What drivers work with: memory resolved to bytes. */
export interface NormalisedScale {
  instances?: number;
  cpu?: number;
  memory?: number;
}

/**
 * Checks a request against the driver's abilities before anything is sent, so a bad value
 * never half-applies (instances changed, memory rejected).
 */
export function normaliseScale(driver: string, req: ScaleRequest, resources: boolean): NormalisedScale {
  const parsed = ScaleRequestSchema.safeParse(req);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error);
    throw invalid(driver, `invalid scale request: ${formatIssues(issues)}`, { issues });
  }
  const r = parsed.data;
  if (!resources && (r.cpu !== undefined || r.memory !== undefined)) {
    throw invalid(driver, 'this scheduler does not set cpu or memory per instance; scale only instances');
  }
  return { instances: r.instances, cpu: r.cpu, memory: r.memory === undefined ? undefined : parseMemory(driver, r.memory) };
}
