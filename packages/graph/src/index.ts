export type { ConstraintReport } from './constraints.ts';
export { applyConstraints, CONSTRAINTS } from './constraints.ts';
export type { CursorKey, Page } from './cursor.ts';
export { decodeCursor, encodeCursor, pageSize } from './cursor.ts';
export type { DecisionFilter, PolicyDecisionRecord } from './decisions.ts';
export { getDecisions, linkDecision, listDecisions, recordDecision } from './decisions.ts';
export type { Graph, GraphOptions } from './graph.ts';
export { createGraph, rows, toGraphError } from './graph.ts';
export type { GraphEdgeRecord, GraphNodeRecord } from './lineage.ts';
export { GRAPH_NODE_LIMIT, runNeighbourhood, runsTouchingResource } from './lineage.ts';
export { cancelRun, rerunTask } from './run-control.ts';
export type { NewRun, NewTask, RunFilter, RunRecord, RunStatus } from './runs.ts';
export { countActiveRuns, countRuns, createRun, getRun, getRuns, listRuns, RUN_STATUSES } from './runs.ts';
export type { TaskRecord, TaskStatus, TimelineEventRecord } from './tasks.ts';
export { getTasksForRuns, listTimeline, TASK_STATUSES } from './tasks.ts';
export type {
  SavedWorkflowVersion,
  WorkflowRecord,
  WorkflowVersionInput,
  WorkflowVersionRecord,
} from './workflows.ts';
export {
  getWorkflows,
  getWorkflowVersions,
  listVersionsOf,
  listWorkflows,
  saveWorkflowVersion,
} from './workflows.ts';
