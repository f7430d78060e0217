import { z } from 'zod';
import { AnnotationsSchema, LabelsSchema } from '../metadata.ts';

/** A deployment definition for drivers that can create deployments (local). */
export const DeploymentDefinitionSchema = z
  .object({
    command: z.string().min(1).describe('executable, e.g. "node" or an absolute path'),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}).describe('added to PATH/HOME/LANG/TMPDIR; PORT and HOST are always set by the scheduler'),
    instances: z.number().int().min(0).max(100).default(1),
    healthCheck: z.string().regex(/^\//, 'must be a path starting with /').optional().describe('HTTP GET path; 2xx = ready. Absent: a TCP connect means ready'),
    cwd: z.string().min(1).optional(),
    labels: LabelsSchema,
    // Kept beside the definition by the local scheduler: a change of annotations restarts nothing.
    annotations: AnnotationsSchema,
  })
  .strict();

export type DeploymentDefinitionSpec = z.output<typeof DeploymentDefinitionSchema>;
