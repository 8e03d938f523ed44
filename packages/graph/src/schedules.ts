import { AppError, type Scope } from '@maestro/domain';
import neo4j from 'neo4j-driver';
import type { Graph } from './graph.ts';

/** A schedule as stored (datetimes as ISO strings, params parsed). */
export interface ScheduleRecord {
  id: string;
  tenantId: string;
  environment: string;
  region: string;
  /** Id of the Workflow it SCHEDULES. */
  workflowId: string;
  workflowName: string;
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  enabled: boolean;
  /** Null while disabled. */
  nextRunAt: string | null;
  lastRunAt: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string | null;
}

export interface NewSchedule {
  id: string;
  workflowName: string;
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  enabled: boolean;
  /** Ignored (stored as null) when the schedule is disabled. */
  nextRunAt: Date | null;
  createdBy: string;
  at: Date;
}

/** Fields to change; absent ones are kept. */
export interface SchedulePatch {
  cron?: string;
  timezone?: string;
  params?: Record<string, unknown>;
  enabled?: boolean;
  /** Null clears it; it is cleared anyway when the schedule ends up disabled. */
  nextRunAt?: Date | null;
  at: Date;
}

const SCHEDULE_FIELDS = `s {
  .id, .tenantId, .environment, .region, .workflowName, .cron, .timezone, .params, .enabled, .createdBy,
  workflowId: w.id, createdAt: toString(s.createdAt), updatedAt: toString(s.updatedAt),
  nextRunAt: toString(s.nextRunAt), lastRunAt: toString(s.lastRunAt)
}`;

/** The scheduled workflow, matched in the schedule's own scope. */
const WITH_WORKFLOW = `MATCH (s)-[:SCHEDULES]->(w:Workflow {tenantId: $tenantId, environment: $environment, region: $region})`;

function toSchedule(row: Record<string, unknown>): ScheduleRecord {
  return {
    ...(row as unknown as ScheduleRecord),
    params: JSON.parse((row.params as string | null) ?? '{}') as Record<string, unknown>,
    createdBy: (row.createdBy as string | null) ?? null,
  };
}

/**
 * Creates `(:Schedule)-[:SCHEDULES]->(:Workflow)` for a workflow of the scope; a workflow that
 * is not there (or only in another scope) is NOT_FOUND on `['input','workflow']`.
 */
export async function createSchedule(
  graph: Graph,
  scope: Scope,
  input: NewSchedule,
): Promise<ScheduleRecord> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (w:Workflow {tenantId: $tenantId, environment: $environment, region: $region, name: $workflowName})
       CREATE (s:Schedule {id: $id, tenantId: $tenantId, environment: $environment, region: $region,
                workflowName: w.name, cron: $cron, timezone: $timezone, params: $params, enabled: $enabled,
                nextRunAt: CASE WHEN $enabled THEN datetime($nextRunAt) END, createdBy: $createdBy,
                createdAt: datetime($at), updatedAt: datetime($at)})-[:SCHEDULES]->(w)
       RETURN ${SCHEDULE_FIELDS} AS schedule`,
      {
        ...scope,
        id: input.id,
        workflowName: input.workflowName,
        cron: input.cron,
        timezone: input.timezone,
        params: JSON.stringify(input.params),
        enabled: input.enabled,
        nextRunAt: input.nextRunAt?.toISOString() ?? null,
        createdBy: input.createdBy,
        at: input.at.toISOString(),
      },
    );
    const row = result.records[0];
    if (!row) {
      throw new AppError('NOT_FOUND', `workflow ${input.workflowName} not found`, {
        field: ['input', 'workflow'],
      });
    }
    return toSchedule(row.get('schedule') as Record<string, unknown>);
  });
}

/**
 * Applies a patch to a schedule of the scope; another scope's (or a deleted) schedule is
 * NOT_FOUND on `['input','scheduleId']`. A disabled schedule never keeps a nextRunAt.
 */
export async function updateSchedule(
  graph: Graph,
  scope: Scope,
  id: string,
  patch: SchedulePatch,
): Promise<ScheduleRecord> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (s:Schedule {id: $id, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE s.deletedAt IS NULL
       ${WITH_WORKFLOW}
       SET s.cron = coalesce($cron, s.cron), s.timezone = coalesce($timezone, s.timezone),
           s.params = coalesce($params, s.params), s.enabled = coalesce($enabled, s.enabled),
           s.nextRunAt = CASE WHEN $setNextRunAt THEN datetime($nextRunAt) ELSE s.nextRunAt END,
           s.updatedAt = datetime($at)
       SET s.nextRunAt = CASE WHEN s.enabled THEN s.nextRunAt END
       RETURN ${SCHEDULE_FIELDS} AS schedule`,
      {
        ...scope,
        id,
        cron: patch.cron ?? null,
        timezone: patch.timezone ?? null,
        params: patch.params === undefined ? null : JSON.stringify(patch.params),
        enabled: patch.enabled ?? null,
        setNextRunAt: patch.nextRunAt !== undefined,
        nextRunAt: patch.nextRunAt?.toISOString() ?? null,
        at: patch.at.toISOString(),
      },
    );
    const row = result.records[0];
    if (!row) throw new AppError('NOT_FOUND', 'schedule not found', { field: ['input', 'scheduleId'] });
    return toSchedule(row.get('schedule') as Record<string, unknown>);
  });
}

/** A schedule of the scope, or null (another scope's schedule reads as not found). */
export async function getSchedule(graph: Graph, scope: Scope, id: string): Promise<ScheduleRecord | null> {
  return (await getSchedules(graph, scope, [id]))[0] ?? null;
}

/** Batch lookup for dataloaders; result order follows `ids`, missing ones are dropped. */
export async function getSchedules(
  graph: Graph,
  scope: Scope,
  ids: readonly string[],
): Promise<ScheduleRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $ids AS id
       MATCH (s:Schedule {id: id, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE s.deletedAt IS NULL
       ${WITH_WORKFLOW}
       RETURN ${SCHEDULE_FIELDS} AS schedule`,
      { ...scope, ids: [...ids] },
    );
    return result.records.map((r) => toSchedule(r.get('schedule') as Record<string, unknown>));
  });
}

/** Every live schedule of the scope, oldest first. */
export async function listSchedules(graph: Graph, scope: Scope): Promise<ScheduleRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (s:Schedule {tenantId: $tenantId, environment: $environment, region: $region})
       // workflowName is required: this lets the scope seek schedule_scope_workflow_name instead of
       // scanning every tenant's schedules
       WHERE s.workflowName IS NOT NULL AND s.deletedAt IS NULL
       ${WITH_WORKFLOW}
       RETURN ${SCHEDULE_FIELDS} AS schedule
       ORDER BY s.createdAt, s.id`,
      { ...scope },
    );
    return result.records.map((r) => toSchedule(r.get('schedule') as Record<string, unknown>));
  });
}

/**
 * Every enabled, live schedule across tenants (or of the given tenants), for the worker's
 * scheduler to mirror into BullMQ job schedulers.
 */
export async function listEnabledSchedules(
  graph: Graph,
  options: { tenants?: string[] | null; limit?: number } = {},
): Promise<ScheduleRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (s:Schedule) WHERE s.enabled = true AND s.deletedAt IS NULL
         AND ($tenants IS NULL OR s.tenantId IN $tenants)
       MATCH (s)-[:SCHEDULES]->(w:Workflow {tenantId: s.tenantId, environment: s.environment, region: s.region})
       RETURN ${SCHEDULE_FIELDS} AS schedule
       ORDER BY s.id
       LIMIT $limit`,
      { tenants: options.tenants ?? null, limit: neo4j.int(options.limit ?? 10_000) },
    );
    return result.records.map((r) => toSchedule(r.get('schedule') as Record<string, unknown>));
  });
}

/** Records that a schedule fired: lastRunAt and the next time it fires. */
export async function markScheduleFired(
  graph: Graph,
  scope: Scope,
  id: string,
  firedAt: Date,
  nextRunAt: Date | null,
): Promise<void> {
  await graph.write((tx) =>
    tx.run(
      `MATCH (s:Schedule {id: $id, tenantId: $tenantId, environment: $environment, region: $region})
       SET s.lastRunAt = datetime($firedAt),
           s.nextRunAt = CASE WHEN s.enabled AND $next IS NOT NULL THEN datetime($next) END`,
      { ...scope, id, firedAt: firedAt.toISOString(), next: nextRunAt?.toISOString() ?? null },
    ),
  );
}
