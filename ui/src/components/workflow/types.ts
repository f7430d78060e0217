import type { components } from '../../../../cli/api/schema.ts';

type Schemas = components['schemas'];
export type WorkflowSummaryPage = Schemas['WorkflowSummaryPage'];
export type WorkflowDoc = Schemas['Workflow'];
export type Trigger = NonNullable<WorkflowDoc['trigger']>;
