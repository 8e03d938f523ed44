export type { ApprovalVerdict } from './approval-decisions.ts';
export { decideApproval } from './approval-decisions.ts';
export type {
  ApprovalDecisionRecord,
  ApprovalFilter,
  ApprovalRecord,
  ApprovalStatus,
  NewApproval,
} from './approvals.ts';
export {
  APPROVAL_STATUSES,
  createApproval,
  getApprovals,
  getApprovalsForRuns,
  listApprovals,
} from './approvals.ts';
export type { ConstraintReport } from './constraints.ts';
export { applyConstraints, CONSTRAINTS } from './constraints.ts';
export type { CursorKey, Page } from './cursor.ts';
export { decodeCursor, encodeCursor, pageSize } from './cursor.ts';
export type { DecisionFilter, EngineDecision, PolicyDecisionRecord } from './decisions.ts';
export { decisionRecordOf, getDecisions, linkDecision, listDecisions, recordDecision } from './decisions.ts';
export type {
  AdvanceResult,
  ClaimedTask,
  ClaimResult,
  CompletedStep,
  Dispatch,
  EagerOptions,
  NewEvent,
  StepFailure,
  TaskOutcome,
  TaskRef,
} from './engine.ts';
export {
  advanceRun,
  claimTask,
  completeTasks,
  expireRun,
  failTask,
  parkTask,
  releaseClaim,
  renewLease,
} from './engine.ts';
export type { StrandedWork } from './engine-sweeps.ts';
export { findStrandedWork, releaseClaimsOf } from './engine-sweeps.ts';
export type { Graph, GraphOptions } from './graph.ts';
export { createGraph, rows, toGraphError } from './graph.ts';
export type { GraphEdgeRecord, GraphNodeRecord, RunParticipants } from './lineage.ts';
export {
  GRAPH_NODE_LIMIT,
  recordTouch,
  runNeighbourhood,
  runParticipants,
  runsTouchingResource,
  workflowsTouchingResource,
} from './lineage.ts';
export { cancelRun, rerunTask } from './run-control.ts';
export type { NewRun, NewTask, RunFilter, RunRecord, RunStatus } from './runs.ts';
export { countActiveRuns, countRuns, createRun, getRun, getRuns, listRuns, RUN_STATUSES } from './runs.ts';
export type { NewSchedule, SchedulePatch, ScheduleRecord } from './schedules.ts';
export {
  createSchedule,
  getSchedule,
  getSchedules,
  listEnabledSchedules,
  listSchedules,
  markScheduleFired,
  updateSchedule,
} from './schedules.ts';
export type { TaskRecord, TaskStatus, TimelineEventRecord } from './tasks.ts';
export { getTasksForRuns, listTimeline, TASK_STATUSES, taskExists } from './tasks.ts';
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
