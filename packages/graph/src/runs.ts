import { AppError, type Scope } from '@maestro/domain';
import type { ManagedTransaction } from 'neo4j-driver';
import neo4j from 'neo4j-driver';
import { type CursorKey, decodeCursor, type Page, pageSize, toPage } from './cursor.ts';
import { RUN_STATUS, type RunStatus } from './generated/entities.ts';
import type { Graph } from './graph.ts';

export { RUN_STATUS as RUN_STATUSES, type RunStatus };

/** A run as stored (datetimes as ISO strings, JSON as parsed values). */
export interface RunRecord {
  id: string;
  tenantId: string;
  environment: string;
  region: string;
  workflowId: string;
  workflowName: string;
  workflowVersionId: string;
  version: string;
  status: RunStatus;
  params: unknown;
  initiatedBy: string;
  initiatorRoles: string[];
  idempotencyKey: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why the run ended as it did (failed step, timeout); null while running or on success. */
  statusMessage: string | null;
  estimatedCostUSD: number | null;
  costUSD: number;
}

export interface NewTask {
  id: string;
  stepId: string;
  uses: string;
  /** Step ids this task waits for. */
  needs: string[];
  idempotencyKey: string;
  itemIndex: number | null;
  /** Order in the run plan (topological, then declaration order). */
  position: number;
  input: unknown;
}

export interface NewRun {
  id: string;
  workflowVersionId: string;
  status: 'PENDING' | 'RUNNING' | 'AWAITING_APPROVAL';
  params: unknown;
  initiatedBy: string;
  initiatorRoles: string[];
  /** Caller's key; defaults to the run id (never collides). */
  idempotencyKey: string | null;
  estimatedCostUSD: number | null;
  createdAt: Date;
  tasks: NewTask[];
  /** When policy requires approval: the Approval that GATES the run, created in the same transaction. */
  approval?: {
    id: string;
    requiredApprovals: number;
    eligibleRoles: string[];
    expiresAt: Date | null;
  } | null;
}

export const RUN_FIELDS = `{
  .id, .tenantId, .environment, .region, .workflowId, .workflowName, .workflowVersionId, .version, .status,
  .params, .initiatedBy, .initiatorRoles, .idempotencyKey, .estimatedCostUSD, .costUSD, .statusMessage,
  createdAt: toString(r.createdAt), startedAt: toString(r.startedAt), finishedAt: toString(r.finishedAt)
}`;

export function toRun(row: Record<string, unknown>): RunRecord {
  return {
    ...(row as unknown as RunRecord),
    params: JSON.parse((row.params as string | null) ?? '{}'),
    initiatorRoles: (row.initiatorRoles as string[] | null) ?? [],
    costUSD: (row.costUSD as number | null) ?? 0,
    statusMessage: (row.statusMessage as string | null) ?? null,
  };
}

/**
 * Creates a run, its tasks, their dependencies and the first timeline event in one
 * transaction. The same idempotency key within a tenant returns the existing run (created:
 * false); reusing a key from another environment or region is a CONFLICT, never a leak.
 */
export async function createRun(
  graph: Graph,
  scope: Scope,
  input: NewRun,
): Promise<{ run: RunRecord; created: boolean }> {
  return graph.write(async (tx) => {
    const at = input.createdAt.toISOString();
    const merged = await tx.run(
      `MATCH (v:WorkflowVersion {id: $versionId, tenantId: $tenantId, environment: $environment, region: $region})
             -[:VERSION_OF]->(w:Workflow)
       MERGE (r:Run {tenantId: $tenantId, idempotencyKey: $key})
         ON CREATE SET r.id = $id, r.environment = $environment, r.region = $region, r.workflowId = w.id,
                       r.workflowName = w.name, r.workflowVersionId = v.id, r.version = v.version,
                       r.status = $status, r.params = $params, r.initiatedBy = $initiatedBy,
                       r.initiatorRoles = $initiatorRoles, r.estimatedCostUSD = $estimatedCostUSD,
                       r.costUSD = 0.0, r.createdAt = datetime($at), r.lastSeq = 0,
                       r.startedAt = CASE WHEN $status = 'RUNNING' THEN datetime($at) END
       RETURN r ${RUN_FIELDS} AS run, r.id = $id AS created, v.id AS versionId`,
      {
        ...scope,
        versionId: input.workflowVersionId,
        key: input.idempotencyKey ?? input.id,
        id: input.id,
        status: input.status,
        params: JSON.stringify(input.params ?? {}),
        initiatedBy: input.initiatedBy,
        initiatorRoles: input.initiatorRoles,
        estimatedCostUSD: input.estimatedCostUSD,
        at,
      },
    );
    const row = merged.records[0];
    if (!row) throw new AppError('NOT_FOUND', 'workflow version not found', { field: ['workflow'] });
    const run = toRun(row.get('run') as Record<string, unknown>);
    if (!(row.get('created') as boolean)) {
      if (run.environment !== scope.environment || run.region !== scope.region) {
        throw new AppError('CONFLICT', 'idempotency key already used in another environment or region', {
          field: ['idempotencyKey'],
        });
      }
      return { run, created: false };
    }
    await linkNewRun(tx, scope, input, at);
    return { run, created: true };
  });
}

async function linkNewRun(tx: ManagedTransaction, scope: Scope, input: NewRun, at: string): Promise<void> {
  await tx.run(
    `MATCH (r:Run {id: $id, tenantId: $tenantId})
     MATCH (v:WorkflowVersion {id: $versionId, tenantId: $tenantId})
     MERGE (u:User {tenantId: $tenantId, subject: $initiatedBy})
       ON CREATE SET u.id = $userId, u.createdAt = datetime($at)
     CREATE (r)-[:INSTANCE_OF]->(v), (r)-[:INITIATED_BY]->(u)
     CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: $eventId, tenantId: $tenantId, environment: $environment,
              region: $region, runId: $id, seq: 0, at: datetime($at), type: 'run.status', subjectId: $id,
              to: $status, actor: $initiatedBy, createdAt: datetime($at)})
     WITH r
     UNWIND $tasks AS t
     CREATE (r)-[:HAS_TASK]->(task:Task {id: t.id, tenantId: $tenantId, environment: $environment, region: $region,
              runId: $id, stepId: t.stepId, uses: t.uses, status: 'PENDING', attempt: 1, needs: t.needs,
              idempotencyKey: t.idempotencyKey, itemIndex: toInteger(t.itemIndex), position: toInteger(t.position), input: t.input, costUSD: 0.0,
              createdAt: datetime($at)})`,
    {
      ...scope,
      id: input.id,
      versionId: input.workflowVersionId,
      initiatedBy: input.initiatedBy,
      userId: `usr_${crypto.randomUUID()}`,
      eventId: `evt_${crypto.randomUUID()}`,
      status: input.status,
      at,
      tasks: input.tasks.map((t) => ({ ...t, input: JSON.stringify(t.input ?? null) })),
    },
  );
  if (input.approval) {
    await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId})
       CREATE (a:Approval {id: $a.id, tenantId: $tenantId, environment: $environment, region: $region, runId: $runId,
                           taskId: null, status: 'PENDING', requiredApprovals: $required, eligibleRoles: $a.eligibleRoles,
                           requestedBy: $requestedBy, requesterRoles: $requesterRoles, createdAt: datetime($at),
                           expiresAt: CASE WHEN $expiresAt IS NULL THEN null ELSE datetime($expiresAt) END})
       CREATE (a)-[:GATES]->(r)`,
      {
        ...scope,
        runId: input.id,
        a: input.approval,
        required: neo4j.int(input.approval.requiredApprovals),
        requestedBy: input.initiatedBy,
        requesterRoles: input.initiatorRoles,
        at,
        expiresAt: input.approval.expiresAt?.toISOString() ?? null,
      },
    );
  }
  await tx.run(
    `MATCH (r:Run {id: $id, tenantId: $tenantId})-[:HAS_TASK]->(t:Task)
     UNWIND t.needs AS need
     MATCH (r)-[:HAS_TASK]->(up:Task {stepId: need})
     CREATE (t)-[:DEPENDS_ON]->(up)`,
    { tenantId: scope.tenantId, id: input.id },
  );
}

/** A run in the caller's scope, or null (another scope's run reads as not found). */
export async function getRun(graph: Graph, scope: Scope, id: string): Promise<RunRecord | null> {
  const rows = await getRuns(graph, scope, [id]);
  return rows[0] ?? null;
}

/** Batch lookup for dataloaders; result order follows `ids`, missing ones are dropped. */
export async function getRuns(graph: Graph, scope: Scope, ids: readonly string[]): Promise<RunRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $ids AS id
       MATCH (r:Run {id: id, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN r ${RUN_FIELDS} AS run`,
      { ...scope, ids: [...ids] },
    );
    return result.records.map((rec) => toRun(rec.get('run') as Record<string, unknown>));
  });
}

export interface RunFilter {
  status?: RunStatus[] | null;
  workflow?: string | null;
  environment?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** The environment is fixed by the request scope; asking for another one matches nothing. */
function matchesNothing(scope: Scope, filter: RunFilter): boolean {
  return Boolean(filter.environment) && filter.environment !== scope.environment;
}

function filterClause(scope: Scope, filter: RunFilter): { where: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = { ...scope };
  if (filter.status?.length) {
    where.push('r.status IN $status');
    params.status = filter.status;
  }
  if (filter.workflow) {
    where.push('r.workflowName = $workflow');
    params.workflow = filter.workflow;
  }
  if (filter.createdAfter) {
    where.push('r.createdAt >= datetime($createdAfter)');
    params.createdAfter = filter.createdAfter.toISOString();
  }
  if (filter.createdBefore) {
    where.push('r.createdAt < datetime($createdBefore)');
    params.createdBefore = filter.createdBefore.toISOString();
  }
  return { where: where.length ? `AND ${where.join(' AND ')}` : '', params };
}

const SCOPE_KEYS = ['tenantId', 'environment', 'region'] as const;

/**
 * The Run index a filter reads (graph.yaml, ADR 0006): the scope keys, then the properties the
 * filter pins to one value, then createdAt. A list reads it in createdAt order from the window's
 * (or the cursor's) end and stops once the page is full; the ORDER BY names the same keys (they
 * are constant within the match) so Neo4j sees the index order and needs no sort.
 *   - `ordered`: for a page. A status list of several values is filtered, not sought (a seek per
 *     value would lose the order), so only a single status joins the index.
 *   - otherwise: for a count. Every predicate is in the index, so nothing but index entries is read.
 */
function runIndex(filter: RunFilter, ordered: boolean): { hint: string; order: string } {
  const keys: string[] = [...SCOPE_KEYS];
  if (filter.workflow) keys.push('workflowName');
  if (filter.status?.length && (!ordered || filter.status.length === 1)) keys.push('status');
  keys.push('createdAt');
  return {
    hint: `USING INDEX r:Run(${keys.join(', ')})`,
    order: [...keys.map((k) => `r.${k} DESC`), 'r.id DESC'].join(', '),
  };
}

/**
 * Runs newest first, keyset-paginated on (createdAt, id): page N costs what page 1 costs. The
 * cursor is a range on createdAt (only when there is one), so the index seek starts at it.
 */
export async function listRuns(
  graph: Graph,
  scope: Scope,
  filter: RunFilter,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Page<RunRecord>> {
  const size = pageSize(first);
  const cursor = decodeCursor('run', after);
  const { where, params } = filterClause(scope, filter);
  if (matchesNothing(scope, filter))
    return toPage('run', [] as RunRecord[], size, (r) => ({ s: r.createdAt, id: r.id }));
  const index = runIndex(filter, true);
  const seek = cursor
    ? `AND r.createdAt <= datetime($cursorAt) AND (r.createdAt < datetime($cursorAt) OR r.id < $cursorId)`
    : '';
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {tenantId: $tenantId, environment: $environment, region: $region})
       ${index.hint}
       WHERE r.createdAt IS NOT NULL ${seek} ${where}
       RETURN r ${RUN_FIELDS} AS run
       ORDER BY ${index.order}
       LIMIT $limit`,
      {
        ...params,
        ...(cursor ? { cursorAt: String(cursor.s), cursorId: cursor.id } : {}),
        limit: neo4j.int(size + 1),
      },
    );
    const rows = result.records.map((rec) => toRun(rec.get('run') as Record<string, unknown>));
    return toPage('run', rows, size, (r): CursorKey => ({ s: r.createdAt, id: r.id }));
  });
}

/**
 * How many runs match the filter, read from the index alone. With `upTo`, counting stops there
 * (a UI showing "1,000+" need not read 50,000 index entries).
 */
export async function countRuns(
  graph: Graph,
  scope: Scope,
  filter: RunFilter,
  options: { upTo?: number | null } = {},
): Promise<number> {
  const { where, params } = filterClause(scope, filter);
  const upTo = options.upTo;
  if (upTo !== null && upTo !== undefined && (!Number.isInteger(upTo) || upTo < 0)) {
    throw new AppError('VALIDATION', '`upTo` must be a non-negative integer', { field: ['upTo'] });
  }
  const capped = upTo !== null && upTo !== undefined;
  if (matchesNothing(scope, filter)) return 0;
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {tenantId: $tenantId, environment: $environment, region: $region})
       ${runIndex(filter, false).hint}
       WHERE r.createdAt IS NOT NULL ${where}
       ${capped ? 'WITH r LIMIT $upTo' : ''}
       RETURN count(r) AS n`,
      capped ? { ...params, upTo: neo4j.int(upTo) } : params,
    );
    return Number(result.records[0]?.get('n') ?? 0);
  });
}

/**
 * Runs that hold one of the tenant's concurrency slots (the quota is per tenant, across its
 * environments and regions): started or waiting for approval, not yet finished.
 */
export async function countActiveRuns(graph: Graph, scope: Pick<Scope, 'tenantId'>): Promise<number> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {tenantId: $tenantId})
       WHERE r.status IN ['PENDING', 'RUNNING', 'AWAITING_APPROVAL']
       RETURN count(r) AS n`,
      { tenantId: scope.tenantId },
    );
    return Number(result.records[0]?.get('n') ?? 0);
  });
}
