import type {
  ApprovalRecord,
  RunRecord,
  TaskRecord,
  TimelineEventRecord,
  WorkflowRecord,
  WorkflowVersionRecord,
} from '@maestro/graph';
import { builder } from '../builder.ts';

/**
 * Object refs declared once, implemented in their own files (workflow.ts, run.ts, …), so
 * types that point at each other do not need circular imports.
 */
export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount?: number;
}

export const WorkflowRef = builder.objectRef<WorkflowRecord>('Workflow');
export const WorkflowVersionRef = builder.objectRef<WorkflowVersionRecord>('WorkflowVersion');
export const RunRef = builder.objectRef<RunRecord>('Run');
export const TaskRef = builder.objectRef<TaskRecord>('Task');
export const TimelineEventRef = builder.objectRef<TimelineEventRecord>('TimelineEvent');
/** A page of runs; the total is counted only when `totalCount` is selected (ADR 0006). */
export interface RunConnectionShape extends Omit<Connection<RunRecord>, 'totalCount'> {
  /** Matches of the filter, counting at most `upTo` when given. */
  totalCount: (upTo: number | null | undefined) => Promise<number> | number;
}
export const RunConnectionRef = builder.objectRef<RunConnectionShape>('RunConnection');
export const ApprovalRef = builder.objectRef<ApprovalRecord>('Approval');
