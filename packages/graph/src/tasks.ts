import type { Scope } from '@maestro/domain';
import neo4j from 'neo4j-driver';
import { type CursorKey, decodeCursor, toPage } from './cursor.ts';
import type { Graph } from './graph.ts';

export { TASK_STATUS as TASK_STATUSES, type TaskStatus } from './generated/entities.ts';

export interface TaskRecord {
  id: string;
  runId: string;
  stepId: string;
  uses: string;
  status: string;
  attempt: number;
  needs: string[];
  idempotencyKey: string;
  itemIndex: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: string | null;
  /** StepError code of the last failure (TIMEOUT, HTTP_5XX, VALIDATION, ...). */
  errorCode: string | null;
  /** FAILED after exhausting its retries on retryable errors; replay with rerunTask. */
  deadLetter: boolean;
  costUSD: number;
}

/** Tasks of several runs at once (dataloader batch), each run's tasks in creation order. */
export async function getTasksForRuns(
  graph: Graph,
  scope: Scope,
  runIds: readonly string[],
): Promise<Map<string, TaskRecord[]>> {
  const byRun = new Map<string, TaskRecord[]>(runIds.map((id) => [id, []]));
  await graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $runIds AS runId
       MATCH (t:Task {runId: runId, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN t { .id, .runId, .stepId, .uses, .status, .attempt, .needs, .idempotencyKey, .itemIndex,
                  .output, .error, .errorCode, .deadLetter, .costUSD, startedAt: toString(t.startedAt),
                  finishedAt: toString(t.finishedAt) } AS task
       ORDER BY t.position, t.itemIndex`,
      { ...scope, runIds: [...runIds] },
    );
    for (const rec of result.records) {
      const row = rec.get('task') as Record<string, unknown>;
      const task: TaskRecord = {
        ...(row as unknown as TaskRecord),
        output: row.output === null || row.output === undefined ? null : JSON.parse(row.output as string),
        needs: (row.needs as string[] | null) ?? [],
        errorCode: (row.errorCode as string | null) ?? null,
        deadLetter: row.deadLetter === true,
        costUSD: (row.costUSD as number | null) ?? 0,
      };
      byRun.get(task.runId)?.push(task);
    }
  });
  return byRun;
}

export interface TimelineEventRecord {
  id: string;
  seq: number;
  at: string;
  type: string;
  subjectId: string;
  from: string | null;
  to: string | null;
  message: string | null;
  actor: string | null;
}

/** A run's timeline, oldest first, keyset-paginated on the per-run sequence number. */
export async function listTimeline(
  graph: Graph,
  scope: Scope,
  runId: string,
  first: number,
  after: string | null | undefined,
): Promise<{ events: TimelineEventRecord[]; endCursor: string | null; hasNextPage: boolean }> {
  const cursor = decodeCursor('evt', after);
  const size = Math.min(Math.max(1, Math.trunc(first)), 5000);
  const rows = await graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (e:TimelineEvent {runId: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE e.seq > coalesce($afterSeq, -1) // an IS NULL OR here would defeat the (runId, seq) index
       RETURN e { .id, .seq, .type, .subjectId, .from, .to, .message, .actor, at: toString(e.at) } AS event
       ORDER BY e.seq
       LIMIT $limit`,
      { ...scope, runId, afterSeq: cursor ? Number(cursor.s) : null, limit: neo4j.int(size + 1) },
    );
    return result.records.map((r) => r.get('event') as TimelineEventRecord);
  });
  const page = toPage('evt', rows, size, (e): CursorKey => ({ s: e.seq, id: e.id }));
  return { events: page.items.map((i) => i.node), endCursor: page.endCursor, hasNextPage: page.hasNextPage };
}

/** Whether a task exists in the scope (a foreign id reads as absent). */
export async function taskExists(graph: Graph, scope: Scope, taskId: string): Promise<boolean> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN count(t) AS n`,
      { ...scope, taskId },
    );
    return Number(result.records[0]?.get('n') ?? 0) > 0;
  });
}
