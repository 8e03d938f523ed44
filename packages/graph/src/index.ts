export type { ConstraintReport } from './constraints.ts';
export { applyConstraints, CONSTRAINTS } from './constraints.ts';
export type { Graph, GraphOptions } from './graph.ts';
export { createGraph, rows, toGraphError } from './graph.ts';
export { countActiveRuns } from './runs.ts';
export type { SavedWorkflowVersion, WorkflowVersionInput } from './workflows.ts';
export { saveWorkflowVersion } from './workflows.ts';
