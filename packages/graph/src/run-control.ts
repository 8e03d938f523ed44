import { AppError, type Scope } from '@maestro/domain';
import type { Graph } from './graph.ts';
import type { RunRecord } from './runs.ts';
import { getRun } from './runs.ts';

const TERMINAL_RUN = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED'];
const TERMINAL_TASK = ['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'];

/**
 * Appends timeline events to a run inside the caller's write: `seq` comes from a counter on
 * the run node, which the write lock on the run keeps gap-free and ordered.
 */
const APPEND_EVENT = `
  SET r.lastSeq = coalesce(r.lastSeq, 0) + 1
  CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: 'evt_' + randomUUID(), tenantId: r.tenantId,
    environment: r.environment, region: r.region, runId: r.id, seq: r.lastSeq, at: datetime($at), createdAt: datetime($at),
    type: ev.type, subjectId: ev.subjectId, from: ev.from, to: ev.to, message: ev.message, actor: $actor})`;

/**
 * Cancels a run that has not finished: the run and every unfinished task become CANCELLED,
 * each change a timeline event, in one transaction. Finished runs are INVALID_STATE.
 */
export async function cancelRun(
  graph: Graph,
  scope: Scope,
  input: { runId: string; actor: string; reason: string | null; at: Date },
): Promise<RunRecord> {
  await graph.write(async (tx) => {
    const found = await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       SET r._lock = true REMOVE r._lock
       RETURN r.status AS status`,
      { ...scope, runId: input.runId },
    );
    const status = found.records[0]?.get('status') as string | undefined;
    if (!status) throw new AppError('NOT_FOUND', 'run not found', { field: ['runId'] });
    if (TERMINAL_RUN.includes(status)) {
      throw new AppError('INVALID_STATE', `run is already ${status}`, { field: ['runId'] });
    }
    await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId})
       OPTIONAL MATCH (r)-[:HAS_TASK]->(t:Task) WHERE NOT t.status IN $terminal
       WITH r, collect(t) AS open
       FOREACH (t IN open | SET t.status = 'CANCELLED', t.finishedAt = datetime($at), t.claim = null, t.leaseUntil = null)
       WITH r, [t IN open | {type: 'task.status', subjectId: t.id, from: null, to: 'CANCELLED', message: null}] +
               [{type: 'run.status', subjectId: r.id, from: r.status, to: 'CANCELLED', message: $reason}] AS evs
       SET r.status = 'CANCELLED', r.finishedAt = datetime($at), r.statusMessage = coalesce($reason, 'cancelled')
       WITH r, evs
       UNWIND evs AS ev
       CALL (r, ev) { ${APPEND_EVENT} }`,
      {
        ...scope,
        runId: input.runId,
        terminal: TERMINAL_TASK,
        at: input.at.toISOString(),
        actor: input.actor,
        reason: input.reason,
      },
    );
  });
  const run = await getRun(graph, scope, input.runId);
  if (!run) throw new AppError('NOT_FOUND', 'run not found', { field: ['runId'] });
  return run;
}

/**
 * Puts a finished task (and, with `downstream`, every task that depends on it transitively)
 * back to PENDING with the next attempt number, and the run back to RUNNING; the engine picks
 * them up. Tasks still running or waiting are INVALID_STATE.
 */
export async function rerunTask(
  graph: Graph,
  scope: Scope,
  input: { taskId: string; downstream: boolean; actor: string; at: Date },
): Promise<RunRecord> {
  const runId = await graph.write(async (tx) => {
    const found = await tx.run(
      `MATCH (r:Run {tenantId: $tenantId, environment: $environment, region: $region})-[:HAS_TASK]->
             (t:Task {id: $taskId, tenantId: $tenantId})
       SET r._lock = true REMOVE r._lock
       RETURN r.id AS runId, r.status AS runStatus, t.status AS status`,
      { ...scope, taskId: input.taskId },
    );
    const row = found.records[0];
    if (!row) throw new AppError('NOT_FOUND', 'task not found', { field: ['taskId'] });
    const status = row.get('status') as string;
    if (!TERMINAL_TASK.includes(status)) {
      throw new AppError('INVALID_STATE', `task is ${status}; only finished tasks can be rerun`, {
        field: ['taskId'],
      });
    }
    if (row.get('runStatus') === 'AWAITING_APPROVAL') {
      throw new AppError('INVALID_STATE', 'run is waiting for approval', { field: ['taskId'] });
    }
    await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId})-[:HAS_TASK]->(t:Task {id: $taskId})
       OPTIONAL MATCH (d:Task)-[:DEPENDS_ON*1..]->(t) WHERE $downstream
       WITH r, t, collect(DISTINCT d) AS downstream
       WITH r, [t] + downstream AS reset
       FOREACH (x IN reset | SET x.status = 'PENDING', x.attempt = coalesce(x.attempt, 1) + 1,
                             x.startedAt = null, x.finishedAt = null, x.error = null, x.output = null)
       WITH r, reset, r.status AS before
       SET r.status = 'RUNNING', r.finishedAt = null, r.statusMessage = null
       WITH r, [x IN reset | {type: 'task.status', subjectId: x.id, from: null, to: 'PENDING', message: 'rerun'}] +
               CASE WHEN before = 'RUNNING' THEN []
                    ELSE [{type: 'run.status', subjectId: r.id, from: before, to: 'RUNNING', message: 'rerun'}] END AS evs
       UNWIND evs AS ev
       CALL (r, ev) { ${APPEND_EVENT} }`,
      {
        ...scope,
        runId: row.get('runId'),
        taskId: input.taskId,
        downstream: input.downstream,
        at: input.at.toISOString(),
        actor: input.actor,
      },
    );
    return row.get('runId') as string;
  });
  const run = await getRun(graph, scope, runId);
  if (!run) throw new AppError('NOT_FOUND', 'run not found', { field: ['taskId'] });
  return run;
}
