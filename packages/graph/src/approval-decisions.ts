import { AppError, type Scope } from '@maestro/domain';
import { type ApprovalRecord, getApprovals } from './approvals.ts';
import type { Graph } from './graph.ts';

export interface ApprovalVerdict {
  approvalId: string;
  approver: string;
  approverRoles: string[];
  verdict: 'APPROVE' | 'REJECT';
  reason: string;
  at: Date;
}

/**
 * Records one approver's verdict with dual control enforced in code (policy checks it too):
 * the approval must be PENDING and unexpired, the approver may not be the requester, must
 * hold an eligible role and may decide once. The approval node is write-locked first, so two
 * approvers deciding at the same instant are counted exactly once each. N approvals release
 * the run (AWAITING_APPROVAL → PENDING); one rejection ends approval and run REJECTED.
 */
export async function decideApproval(
  graph: Graph,
  scope: Scope,
  input: ApprovalVerdict,
): Promise<ApprovalRecord> {
  if (input.reason.trim() === '') {
    throw new AppError('VALIDATION', 'a reason is required', { field: ['input', 'reason'] });
  }
  await graph.write(async (tx) => {
    const found = await tx.run(
      `MATCH (a:Approval {id: $approvalId, tenantId: $tenantId, environment: $environment, region: $region})
       SET a._lock = true REMOVE a._lock
       WITH a
       MATCH (a)-[:GATES]->(r:Run)
       RETURN a.status AS status, a.requestedBy AS requestedBy, a.eligibleRoles AS eligibleRoles,
              a.expiresAt IS NOT NULL AND a.expiresAt <= datetime($at) AS expired, r.status AS runStatus,
              exists { (a)-[:DECIDED_BY]->(:User {tenantId: $tenantId, subject: $approver}) } AS already`,
      { ...scope, approvalId: input.approvalId, approver: input.approver, at: input.at.toISOString() },
    );
    const row = found.records[0];
    if (!row) throw new AppError('NOT_FOUND', 'approval not found', { field: ['input', 'approvalId'] });
    const field = ['input', 'approvalId'];
    if (row.get('expired') === true)
      throw new AppError('APPROVAL_EXPIRED', 'the approval has expired', { field });
    if (row.get('status') !== 'PENDING') {
      throw new AppError('INVALID_STATE', `the approval is already ${row.get('status')}`, { field });
    }
    if (['CANCELLED', 'FAILED', 'SUCCEEDED', 'REJECTED'].includes(row.get('runStatus') as string)) {
      throw new AppError('INVALID_STATE', `the run is already ${row.get('runStatus')}`, { field });
    }
    if (row.get('requestedBy') === input.approver) {
      throw new AppError('SELF_APPROVAL', 'you cannot approve your own request', { field });
    }
    if (row.get('already') === true) {
      throw new AppError('DUPLICATE_APPROVER', 'you have already decided this approval', { field });
    }
    const eligible = row.get('eligibleRoles') as string[];
    if (!input.approverRoles.some((r) => eligible.includes(r))) {
      throw new AppError('POLICY_DENIED', `approvers need one of the roles: ${eligible.join(', ')}`, {
        field,
      });
    }
    await tx.run(
      `MATCH (a:Approval {id: $approvalId, tenantId: $tenantId})-[:GATES]->(r:Run)
       MERGE (u:User {tenantId: $tenantId, subject: $approver})
         ON CREATE SET u.id = 'usr_' + randomUUID(), u.createdAt = datetime($at)
       CREATE (a)-[:DECIDED_BY {verdict: $verdict, reason: $reason, at: datetime($at), roles: $roles}]->(u)
       WITH a, r, COUNT { (a)-[d:DECIDED_BY]->() WHERE d.verdict = 'APPROVE' } AS approvals
       WITH a, r, CASE WHEN $verdict = 'REJECT' THEN 'REJECTED'
                       WHEN approvals >= a.requiredApprovals THEN 'APPROVED' ELSE 'PENDING' END AS next
       SET a.status = next
       WITH a, r, next, r.status AS before,
            CASE next WHEN 'REJECTED' THEN 'REJECTED'
                      WHEN 'APPROVED' THEN CASE WHEN r.status = 'AWAITING_APPROVAL' THEN 'PENDING' ELSE r.status END
                      ELSE r.status END AS runNext
       SET r.status = runNext,
           r.finishedAt = CASE WHEN runNext = 'REJECTED' THEN datetime($at) ELSE r.finishedAt END
       WITH a, r, [{type: 'approval.decided', subjectId: a.id, from: null, to: $verdict, message: $reason}] +
            CASE WHEN runNext <> before
                 THEN [{type: 'run.status', subjectId: r.id, from: before, to: runNext, message: null}]
                 ELSE [] END AS evs
       UNWIND evs AS ev
       CALL (r, ev) {
         SET r.lastSeq = coalesce(r.lastSeq, 0) + 1
         CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: 'evt_' + randomUUID(), tenantId: r.tenantId,
           environment: r.environment, region: r.region, runId: r.id, seq: r.lastSeq, at: datetime($at),
           createdAt: datetime($at), type: ev.type, subjectId: ev.subjectId, from: ev.from, to: ev.to,
           message: ev.message, actor: $approver})
       }`,
      {
        ...scope,
        approvalId: input.approvalId,
        approver: input.approver,
        roles: input.approverRoles,
        verdict: input.verdict,
        reason: input.reason,
        at: input.at.toISOString(),
      },
    );
  });
  const [approval] = await getApprovals(graph, scope, [input.approvalId]);
  if (!approval) throw new AppError('NOT_FOUND', 'approval not found', { field: ['input', 'approvalId'] });
  return approval;
}
