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
 * the run (AWAITING_APPROVAL → PENDING) or, for an `approval.gate` task, complete the task with
 * `{ approvalId, approvers }` (the engine then advances the run); one rejection ends approval
 * and run REJECTED and cancels the run's unfinished tasks.
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
       MATCH (r:Run {id: a.runId, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN a.status AS status, a.requestedBy AS requestedBy, a.eligibleRoles AS eligibleRoles,
              a.expiresAt IS NOT NULL AND a.expiresAt <= datetime($at) AS expired, r.status AS runStatus,
              exists { (a)-[:DECIDED_BY]->(:User {tenantId: $tenantId, subject: $approver}) } AS already,
              [(a)-[d:DECIDED_BY]->(v:User) WHERE d.verdict = 'APPROVE' | {subject: v.subject, at: d.at}] AS approvedBy`,
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
      `MATCH (a:Approval {id: $approvalId, tenantId: $tenantId})
       MATCH (r:Run {id: a.runId, tenantId: $tenantId, environment: $environment, region: $region})
       SET r._lock = true REMOVE r._lock
       MERGE (u:User {tenantId: $tenantId, subject: $approver})
         ON CREATE SET u.id = 'usr_' + randomUUID(), u.createdAt = datetime($at)
       CREATE (a)-[:DECIDED_BY {verdict: $verdict, reason: $reason, at: datetime($at), roles: $roles}]->(u)
       WITH a, r, COUNT { (a)-[d:DECIDED_BY]->() WHERE d.verdict = 'APPROVE' } AS approvals
       WITH a, r, CASE WHEN $verdict = 'REJECT' THEN 'REJECTED'
                       WHEN approvals >= a.requiredApprovals THEN 'APPROVED' ELSE 'PENDING' END AS next
       SET a.status = next
       // A run-level approval releases the run (AWAITING_APPROVAL -> PENDING, the engine starts it);
       // an approval.gate task succeeds with { approvalId, approvers }. A rejection ends the run
       // REJECTED and cancels what had not finished.
       WITH a, r, next, r.status AS before,
            CASE next WHEN 'REJECTED' THEN 'REJECTED'
                      WHEN 'APPROVED' THEN CASE WHEN r.status = 'AWAITING_APPROVAL' THEN 'PENDING' ELSE r.status END
                      ELSE r.status END AS runNext
       SET r.status = runNext,
           r.finishedAt = CASE WHEN runNext = 'REJECTED' THEN datetime($at) ELSE r.finishedAt END,
           r.statusMessage = CASE WHEN runNext = 'REJECTED' THEN 'approval rejected: ' + $reason ELSE r.statusMessage END
       WITH a, r, next, before, runNext
       OPTIONAL MATCH (gate:Task {id: a.taskId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE next = 'APPROVED' AND gate.status = 'WAITING'
       CALL (a, gate) {
         WITH a, gate WHERE gate IS NOT NULL
         SET gate.status = 'SUCCEEDED', gate.finishedAt = datetime($at), gate.updatedAt = datetime($at),
             gate.output = $gateOutput
       }
       WITH a, r, next, before, runNext, gate
       OPTIONAL MATCH (open:Task {runId: r.id, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE runNext = 'REJECTED' AND NOT open.status IN ['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']
       WITH a, r, next, before, runNext, gate, collect(open) AS opened
       FOREACH (t IN opened | SET t.status = 'CANCELLED', t.finishedAt = datetime($at), t.updatedAt = datetime($at),
                                 t.claim = null, t.leaseUntil = null, t.error = 'approval rejected')
       WITH a, r, [{type: 'approval.decided', subjectId: a.id, from: null, to: $verdict, message: $reason}] +
            CASE WHEN gate IS NOT NULL
                 THEN [{type: 'task.status', subjectId: gate.id, from: 'WAITING', to: 'SUCCEEDED', message: 'approved'}]
                 ELSE [] END +
            [t IN opened | {type: 'task.status', subjectId: t.id, from: null, to: 'CANCELLED', message: 'approval rejected'}] +
            CASE WHEN runNext <> before
                 THEN [{type: 'run.status', subjectId: r.id, from: before, to: runNext, message: null}]
                 ELSE [] END AS evs
       WITH r, evs, coalesce(r.lastSeq, 0) AS base
       SET r.lastSeq = base + size(evs)
       WITH r, evs, base
       UNWIND range(0, size(evs) - 1) AS i
       WITH r, base, i, evs[i] AS ev
       CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: 'evt_' + randomUUID(), tenantId: r.tenantId,
         environment: r.environment, region: r.region, runId: r.id, seq: base + 1 + i, at: datetime($at),
         createdAt: datetime($at), type: ev.type, subjectId: ev.subjectId, from: ev.from, to: ev.to,
         message: ev.message, actor: $approver})`,
      {
        ...scope,
        approvalId: input.approvalId,
        approver: input.approver,
        roles: input.approverRoles,
        verdict: input.verdict,
        reason: input.reason,
        at: input.at.toISOString(),
        // The approval.gate step's output, used only if this verdict completes the approval.
        gateOutput: JSON.stringify({
          approvalId: input.approvalId,
          approvers: [
            ...(row.get('approvedBy') as { subject: string; at: unknown }[])
              .sort((x, y) => Date.parse(String(x.at)) - Date.parse(String(y.at)))
              .map((d) => d.subject),
            input.approver,
          ],
        }),
      },
    );
  });
  const [approval] = await getApprovals(graph, scope, [input.approvalId]);
  if (!approval) throw new AppError('NOT_FOUND', 'approval not found', { field: ['input', 'approvalId'] });
  return approval;
}
