import { AppError, type Scope } from '@maestro/domain';
import neo4j from 'neo4j-driver';
import { decodeCursor, type Page, pageSize, toPage } from './cursor.ts';
import { APPROVAL_STATUS, type ApprovalStatus } from './generated/entities.ts';
import type { Graph } from './graph.ts';

export { APPROVAL_STATUS as APPROVAL_STATUSES, type ApprovalStatus };

export interface ApprovalDecisionRecord {
  approver: string;
  approverRoles: string[];
  verdict: 'APPROVE' | 'REJECT';
  reason: string;
  at: string;
}

export interface ApprovalRecord {
  id: string;
  runId: string;
  taskId: string | null;
  status: ApprovalStatus;
  requiredApprovals: number;
  eligibleRoles: string[];
  requestedBy: string;
  requesterRoles: string[];
  createdAt: string;
  expiresAt: string | null;
  decisions: ApprovalDecisionRecord[];
}

const FIELDS = `a { .id, .runId, .taskId, .status, .requiredApprovals, .eligibleRoles, .requestedBy, .requesterRoles,
  createdAt: toString(a.createdAt), expiresAt: toString(a.expiresAt),
  decisions: [(a)-[d:DECIDED_BY]->(u:User) | {approver: u.subject, approverRoles: coalesce(d.roles, []),
              verdict: d.verdict, reason: d.reason, at: toString(d.at)}] }`;

function toApproval(row: Record<string, unknown>): ApprovalRecord {
  const a = row as unknown as ApprovalRecord;
  return {
    ...a,
    requiredApprovals: Number(a.requiredApprovals),
    // by time, not by string: Neo4j prints fractions of a second with varying length
    decisions: [...a.decisions].sort((x, y) => Date.parse(x.at) - Date.parse(y.at)),
  };
}

export interface NewApproval {
  id: string;
  runId: string;
  taskId: string | null;
  requiredApprovals: number;
  eligibleRoles: string[];
  requestedBy: string;
  requesterRoles: string[];
  createdAt: Date;
  expiresAt: Date | null;
}

/** Creates a PENDING approval that GATES the run (or one of its tasks). */
export async function createApproval(
  graph: Graph,
  scope: Scope,
  input: NewApproval,
): Promise<ApprovalRecord> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       CREATE (a:Approval {id: $id, tenantId: $tenantId, environment: $environment, region: $region, runId: $runId,
                           taskId: $taskId, status: 'PENDING', requiredApprovals: $required,
                           eligibleRoles: $eligibleRoles, requestedBy: $requestedBy, requesterRoles: $requesterRoles,
                           createdAt: datetime($createdAt),
                           expiresAt: CASE WHEN $expiresAt IS NULL THEN null ELSE datetime($expiresAt) END})
       CREATE (a)-[:GATES]->(r)
       RETURN ${FIELDS} AS a`,
      {
        ...scope,
        ...input,
        required: neo4j.int(input.requiredApprovals),
        createdAt: input.createdAt.toISOString(),
        expiresAt: input.expiresAt?.toISOString() ?? null,
      },
    );
    const row = result.records[0];
    if (!row) throw new AppError('NOT_FOUND', 'run not found', { field: ['runId'] });
    return toApproval(row.get('a') as Record<string, unknown>);
  });
}

/** Approvals by id within the scope (dataloader batch / node lookup). */
export async function getApprovals(
  graph: Graph,
  scope: Scope,
  ids: readonly string[],
): Promise<ApprovalRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $ids AS id
       MATCH (a:Approval {id: id, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN ${FIELDS} AS a`,
      { ...scope, ids: [...ids] },
    );
    return result.records.map((r) => toApproval(r.get('a') as Record<string, unknown>));
  });
}

/** Approvals gating each run (dataloader batch), oldest first. */
export async function getApprovalsForRuns(
  graph: Graph,
  scope: Scope,
  runIds: readonly string[],
): Promise<Map<string, ApprovalRecord[]>> {
  const byRun = new Map<string, ApprovalRecord[]>(runIds.map((id) => [id, []]));
  await graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $runIds AS runId
       MATCH (a:Approval {runId: runId, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN ${FIELDS} AS a ORDER BY a.createdAt`,
      { ...scope, runIds: [...runIds] },
    );
    for (const rec of result.records) {
      const a = toApproval(rec.get('a') as Record<string, unknown>);
      byRun.get(a.runId)?.push(a);
    }
  });
  return byRun;
}

export interface ApprovalFilter {
  status?: ApprovalStatus[] | null;
  /** Only approvals this caller may still decide: pending, unexpired, an eligible role, not
   *  the requester, not yet decided by them. */
  actionableBy?: { subject: string; roles: string[]; now: Date } | null;
}

/**
 * Approvals newest first, keyset-paginated on (createdAt, id). Predicates are added only when
 * set (an `$x IS NULL OR …` no index can answer), and the ORDER BY leads with the constant scope
 * keys so approval_scope_created_at gives the order without a sort.
 */
export async function listApprovals(
  graph: Graph,
  scope: Scope,
  filter: ApprovalFilter,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Page<ApprovalRecord>> {
  const size = pageSize(first);
  const cursor = decodeCursor('apr', after);
  const me = filter.actionableBy;
  const where: string[] = ['a.createdAt IS NOT NULL'];
  const params: Record<string, unknown> = { ...scope, limit: neo4j.int(size + 1) };
  if (filter.status?.length) {
    where.push('a.status IN $status');
    params.status = filter.status;
  }
  if (me) {
    where.push(`a.status = 'PENDING' AND (a.expiresAt IS NULL OR a.expiresAt > datetime($now))
              AND a.requestedBy <> $me AND any(role IN $myRoles WHERE role IN a.eligibleRoles)
              AND NOT exists { (a)-[:DECIDED_BY]->(:User {tenantId: $tenantId, subject: $me}) }`);
    Object.assign(params, { me: me.subject, myRoles: me.roles, now: me.now.toISOString() });
  }
  if (cursor) {
    where.push(
      'a.createdAt <= datetime($cursorAt) AND (a.createdAt < datetime($cursorAt) OR a.id < $cursorId)',
    );
    Object.assign(params, { cursorAt: String(cursor.s), cursorId: cursor.id });
  }
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (a:Approval {tenantId: $tenantId, environment: $environment, region: $region})
       WHERE ${where.join('\n         AND ')}
       RETURN ${FIELDS} AS a
       ORDER BY a.tenantId DESC, a.environment DESC, a.region DESC, a.createdAt DESC, a.id DESC
       LIMIT $limit`,
      params,
    );
    const rows = result.records.map((r) => toApproval(r.get('a') as Record<string, unknown>));
    return toPage('apr', rows, size, (a) => ({ s: a.createdAt, id: a.id }));
  });
}
