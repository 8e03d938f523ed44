import type { Scope } from '@maestro/domain';
import neo4j from 'neo4j-driver';
import { dt, type TaskRef } from './engine.ts';
import type { Graph } from './graph.ts';

// The reconciler's queries: work the graph says is due, across tenants (ADR 0005).

const TENANTS = (v: string) => `($tenants IS NULL OR ${v}.tenantId IN $tenants)`;

export interface StrandedWork {
  /** PENDING runs to start, RUNNING runs with nothing in flight (e.g. after a rerun). */
  runs: (Scope & { runId: string })[];
  /** RUNNING runs past their deadline. */
  expired: (Scope & { runId: string })[];
  /** QUEUED tasks (with their backoff) and RUNNING tasks whose lease lapsed. */
  tasks: (TaskRef & { notBefore: string | null; status: string })[];
}

/**
 * What the reconciler re-enqueues, across tenants: work the graph says is due but that Redis
 * may have lost (flushed, restarted, a crash between commit and enqueue). Items untouched for
 * `graceMs` only, so fresh work is left to its own jobs.
 */
export async function findStrandedWork(
  graph: Graph,
  options: { at: Date; graceMs: number; limit: number; tenants?: string[] | null },
): Promise<StrandedWork> {
  const params = {
    tenants: options.tenants ?? null,
    at: dt(options.at),
    before: dt(new Date(options.at.getTime() - options.graceMs)),
    limit: neo4j.int(options.limit),
  };
  return graph.read(async (tx) => {
    const runs = await tx.run(
      `MATCH (r:Run) WHERE r.status IN ['PENDING', 'RUNNING'] AND ${TENANTS('r')} AND coalesce(r.updatedAt, r.createdAt) <= $before
         AND (r.status = 'PENDING' OR NOT exists {
               MATCH (t:Task {runId: r.id, tenantId: r.tenantId, environment: r.environment, region: r.region})
               WHERE t.status IN ['QUEUED', 'RUNNING', 'WAITING'] })
       RETURN r.tenantId AS tenantId, r.environment AS environment, r.region AS region, r.id AS runId
       LIMIT $limit`,
      params,
    );
    const expired = await tx.run(
      `MATCH (r:Run) WHERE r.status = 'RUNNING' AND r.deadlineAt <= $at AND ${TENANTS('r')}
       RETURN r.tenantId AS tenantId, r.environment AS environment, r.region AS region, r.id AS runId
       LIMIT $limit`,
      params,
    );
    const tasks = await tx.run(
      `MATCH (t:Task) WHERE t.status = 'QUEUED' AND t.updatedAt <= $before AND ${TENANTS('t')}
       RETURN t.tenantId AS tenantId, t.environment AS environment, t.region AS region, t.runId AS runId,
              t.id AS taskId, t.attempt AS attempt, toString(t.notBefore) AS notBefore, t.status AS status
       LIMIT $limit
       UNION ALL
       MATCH (t:Task) WHERE t.status = 'RUNNING' AND t.leaseUntil <= $at AND ${TENANTS('t')}
       RETURN t.tenantId AS tenantId, t.environment AS environment, t.region AS region, t.runId AS runId,
              t.id AS taskId, t.attempt AS attempt, null AS notBefore, t.status AS status
       LIMIT $limit`,
      params,
    );
    const toObj = <T>(r: { toObject(): unknown }) => r.toObject() as T;
    return {
      runs: runs.records.map((r) => toObj<Scope & { runId: string }>(r)),
      expired: expired.records.map((r) => toObj<Scope & { runId: string }>(r)),
      tasks: tasks.records.map((r) => {
        const row = toObj<TaskRef & { notBefore: string | null; status: string }>(r);
        return { ...row, attempt: Number(row.attempt) };
      }),
    };
  });
}

/**
 * A restarted worker knows its previous incarnation is dead: the claims it held lapse now
 * instead of at their lease's end, so their tasks resume at once. Worker ids must be unique
 * among live workers.
 */
export async function releaseClaimsOf(
  graph: Graph,
  workerId: string,
  at: Date,
): Promise<{ tenantId: string; taskId: string; attempt: number }[]> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (t:Task) WHERE t.status = 'RUNNING' AND t.claimedBy = $workerId
       SET t.leaseUntil = $at
       RETURN t.tenantId AS tenantId, t.id AS taskId, t.attempt AS attempt`,
      { workerId, at: dt(at) },
    );
    return result.records.map((r) => ({
      tenantId: r.get('tenantId') as string,
      taskId: r.get('taskId') as string,
      attempt: Number(r.get('attempt')),
    }));
  });
}
