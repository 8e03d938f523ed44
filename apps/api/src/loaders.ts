import type { Scope } from '@maestro/domain';
import {
  type ApprovalRecord,
  type Graph,
  getApprovalsForRuns,
  getRuns,
  getTasksForRuns,
  getWorkflows,
  getWorkflowVersions,
  type RunRecord,
  type TaskRecord,
  type WorkflowRecord,
  type WorkflowVersionRecord,
} from '@maestro/graph';
import DataLoader from 'dataloader';

/** Per-request batching: N runs in a list cost one query for their tasks, not N. */
export interface Loaders {
  run: DataLoader<string, RunRecord | null>;
  tasksOfRun: DataLoader<string, TaskRecord[]>;
  workflowById: DataLoader<string, WorkflowRecord | null>;
  workflowByName: DataLoader<string, WorkflowRecord | null>;
  version: DataLoader<string, WorkflowVersionRecord | null>;
  approvalsOfRun: DataLoader<string, ApprovalRecord[]>;
}

function byKey<T>(keys: readonly string[], rows: T[], key: (row: T) => string): Array<T | null> {
  const map = new Map(rows.map((r) => [key(r), r]));
  return keys.map((k) => map.get(k) ?? null);
}

export function createLoaders(graph: Graph, scope: Scope): Loaders {
  return {
    run: new DataLoader(async (ids) => byKey(ids, await getRuns(graph, scope, ids), (r) => r.id)),
    tasksOfRun: new DataLoader(async (ids) => {
      const map = await getTasksForRuns(graph, scope, ids);
      return ids.map((id) => map.get(id) ?? []);
    }),
    workflowById: new DataLoader(async (ids) =>
      byKey(ids, await getWorkflows(graph, scope, 'id', ids), (w) => w.id),
    ),
    workflowByName: new DataLoader(async (names) =>
      byKey(names, await getWorkflows(graph, scope, 'name', names), (w) => w.name),
    ),
    version: new DataLoader(async (ids) =>
      byKey(ids, await getWorkflowVersions(graph, scope, ids), (v) => v.id),
    ),
    approvalsOfRun: new DataLoader(async (ids) => {
      const map = await getApprovalsForRuns(graph, scope, ids);
      return ids.map((id) => map.get(id) ?? []);
    }),
  };
}
