import { newId, type Scope } from '@maestro/domain';
import { loadServiceEnv, publishTestWorkflow, uniqueTenantId } from '@maestro/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { decideApproval } from './approval-decisions.ts';
import { createApproval } from './approvals.ts';
import { createGraph } from './graph.ts';
import { recordTouch, runParticipants, runsTouchingResource, workflowsTouchingResource } from './lineage.ts';
import { createRun, getRun } from './runs.ts';
import { getTasksForRuns } from './tasks.ts';

const env = loadServiceEnv();
const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
afterAll(() => graph.close());

async function runOf(scope: Scope, name: string, status: 'PENDING' | 'AWAITING_APPROVAL' = 'PENDING') {
  const { versionId } = await publishTestWorkflow(graph, scope, name);
  const { run } = await createRun(graph, scope, {
    id: newId('Run'),
    workflowVersionId: versionId,
    status,
    params: {},
    initiatedBy: 'ada',
    initiatorRoles: ['operator'],
    idempotencyKey: null,
    estimatedCostUSD: null,
    createdAt: new Date(),
    tasks: [
      {
        id: newId('Task'),
        stepId: 'a',
        uses: 'core.echo',
        needs: [],
        idempotencyKey: 'k',
        itemIndex: null,
        position: 0,
        input: {},
      },
    ],
  });
  const task = (await getTasksForRuns(graph, scope, [run.id])).get(run.id)?.[0];
  if (!task) throw new Error('no task');
  return { run, task };
}

describe('lineage queries', () => {
  it('finds runs and workflows that touched a resource, only within the scope', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
    const uri = 's3://bucket/model.bin';
    const one = await runOf(scope, 'train');
    const two = await runOf(scope, 'serve');
    await runOf(scope, 'unrelated');
    await recordTouch(graph, scope, { taskId: one.task.id, uri, kind: 's3', mode: 'write', at: new Date() });
    await recordTouch(graph, scope, { taskId: two.task.id, uri, kind: 's3', mode: 'read', at: new Date() });
    await recordTouch(graph, scope, { taskId: two.task.id, uri, kind: 's3', mode: 'read', at: new Date() });

    const page = await runsTouchingResource(graph, scope, uri, 10, null);
    expect(page.totalCount).toBe(2);
    expect(page.items.map((i) => i.node.id).sort()).toEqual([one.run.id, two.run.id].sort());
    expect(await workflowsTouchingResource(graph, scope, uri)).toEqual(['serve', 'train']);

    const elsewhere = { ...scope, environment: 'prod' };
    expect((await runsTouchingResource(graph, elsewhere, uri, 10, null)).totalCount).toBe(0);
    await expect(
      recordTouch(graph, elsewhere, { taskId: one.task.id, uri, kind: 's3', mode: 'read', at: new Date() }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers who started a run and who approved it, when and why, in one query', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'prod', region: 'EU' };
    const { run } = await runOf(scope, 'release', 'AWAITING_APPROVAL');
    const approval = await createApproval(graph, scope, {
      id: newId('Approval'),
      runId: run.id,
      taskId: null,
      requiredApprovals: 2,
      eligibleRoles: ['operator', 'admin'],
      requestedBy: 'ada',
      requesterRoles: ['operator'],
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3600_000),
    });
    const verdict = (approver: string, at: number) =>
      decideApproval(graph, scope, {
        approvalId: approval.id,
        approver,
        approverRoles: ['operator'],
        verdict: 'APPROVE',
        reason: `${approver} checked the diff`,
        at: new Date(Date.now() + at),
      });
    await expect(verdict('ada', 0)).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    expect((await verdict('grace', 1)).status).toBe('PENDING');
    await expect(verdict('grace', 2)).rejects.toMatchObject({ code: 'DUPLICATE_APPROVER' });
    expect((await verdict('linus', 3)).status).toBe('APPROVED');
    expect((await getRun(graph, scope, run.id))?.status).toBe('PENDING');

    const who = await runParticipants(graph, scope, run.id);
    expect(who?.initiator).toBe('ada');
    expect(who?.approvers.map((a) => [a.subject, a.verdict, a.reason])).toEqual([
      ['grace', 'APPROVE', 'grace checked the diff'],
      ['linus', 'APPROVE', 'linus checked the diff'],
    ]);
    expect(await runParticipants(graph, { ...scope, tenantId: uniqueTenantId() }, run.id)).toBeNull();
  });

  it('counts two approvers deciding at the same instant exactly once each', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'prod', region: 'EU' };
    for (let i = 0; i < 10; i++) {
      const { run } = await runOf(scope, `race-${i}`, 'AWAITING_APPROVAL');
      const approval = await createApproval(graph, scope, {
        id: newId('Approval'),
        runId: run.id,
        taskId: null,
        requiredApprovals: 2,
        eligibleRoles: ['operator'],
        requestedBy: 'ada',
        requesterRoles: ['operator'],
        createdAt: new Date(),
        expiresAt: null,
      });
      const at = new Date();
      await Promise.all(
        ['grace', 'linus'].map((approver) =>
          decideApproval(graph, scope, {
            approvalId: approval.id,
            approver,
            approverRoles: ['operator'],
            verdict: 'APPROVE',
            reason: 'ok',
            at,
          }),
        ),
      );
      const who = await runParticipants(graph, scope, run.id);
      expect(who?.approvers.map((a) => a.subject).sort()).toEqual(['grace', 'linus']);
      expect((await getRun(graph, scope, run.id))?.status).toBe('PENDING');
    }
  });
});
