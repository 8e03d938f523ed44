import { decideApproval, getApprovalsForRuns } from '@maestro/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './test-engine.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine?.close();
});

const GATED = `
name: gated
version: 1.0.0
steps:
  - id: build
    uses: core.echo
    with: { message: built }
  - id: gate
    uses: approval.gate
    needs: [build]
    with: { required_approvals: 2, eligible_roles: [operator, admin], expires_in: 1h }
  - id: ship
    uses: core.echo
    needs: [gate]
    with: { message: "shipped after \${{ join(steps.gate.output.approvers, ' and ') }}" }
`;

async function waitingApproval(runId: string) {
  for (let i = 0; i < 200; i++) {
    const tasks = await engine.tasks(runId);
    if (tasks.find((t) => t.stepId === 'gate')?.status === 'WAITING') {
      const approvals = (await getApprovalsForRuns(engine.graph, engine.scope, [runId])).get(runId) ?? [];
      const pending = approvals.find((a) => a.status === 'PENDING');
      if (pending) return pending;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the gate never parked');
}

const verdict = (approvalId: string, approver: string, v: 'APPROVE' | 'REJECT', roles = ['operator']) =>
  decideApproval(engine.graph, engine.scope, {
    approvalId,
    approver,
    approverRoles: roles,
    verdict: v,
    reason: `${approver} says ${v}`,
    at: new Date(),
  });

describe('approval.gate', () => {
  it('parks the task WAITING with an approval; two approvals release it and the run goes on', async () => {
    const runId = await engine.start(GATED);
    const approval = await waitingApproval(runId);
    expect(approval).toMatchObject({
      requiredApprovals: 2,
      eligibleRoles: ['operator', 'admin'],
      requestedBy: 'ada',
    });
    expect(approval.taskId).toBe((await engine.tasks(runId)).find((t) => t.stepId === 'gate')?.id);
    await expect(verdict(approval.id, 'ada', 'APPROVE')).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    await verdict(approval.id, 'grace', 'APPROVE');
    expect((await engine.tasks(runId)).find((t) => t.stepId === 'gate')?.status).toBe('WAITING');
    await verdict(approval.id, 'linus', 'APPROVE', ['admin']);
    await engine.producer.enqueue('runAdvance', { ...engine.scope, runId }); // as the API does
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('SUCCEEDED');
    const tasks = await engine.tasks(runId);
    expect(tasks.find((t) => t.stepId === 'gate')?.output).toEqual({
      approvalId: approval.id,
      approvers: ['grace', 'linus'],
    });
    expect(tasks.find((t) => t.stepId === 'ship')?.output).toEqual({
      message: 'shipped after grace and linus',
    });
  });

  it('one rejection ends the run REJECTED and cancels what had not run', async () => {
    const runId = await engine.start(GATED);
    const approval = await waitingApproval(runId);
    await verdict(approval.id, 'grace', 'REJECT');
    const run = await engine.waitForRun(runId);
    expect(run).toMatchObject({ status: 'REJECTED', statusMessage: 'approval rejected: grace says REJECT' });
    const tasks = await engine.tasks(runId);
    expect(tasks.map((t) => [t.stepId, t.status])).toEqual([
      ['build', 'SUCCEEDED'],
      ['gate', 'CANCELLED'],
      ['ship', 'CANCELLED'],
    ]);
  });
});
