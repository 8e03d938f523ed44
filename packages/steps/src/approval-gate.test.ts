import { describe, expect, it } from 'vitest';
import { approvalGate } from './approval-gate.ts';
import { executeStep, isStepWait } from './step-type.ts';
import { stepFailure } from './test-support.ts';
import { testStepContext } from './testing.ts';

describe('approval.gate', () => {
  it('returns a wait for approvals with the parsed expiry', async () => {
    const result = await executeStep(
      approvalGate,
      { required_approvals: 2, eligible_roles: ['operator', 'admin'], expires_in: '24h' },
      testStepContext(),
    );
    expect(isStepWait(result)).toBe(true);
    expect(result).toEqual({
      wait: {
        kind: 'approval',
        requiredApprovals: 2,
        eligibleRoles: ['operator', 'admin'],
        expiresInMs: 86_400_000,
      },
    });
  });

  it('defaults to one approval and no expiry', async () => {
    expect(await executeStep(approvalGate, { eligible_roles: ['admin'] }, testStepContext())).toEqual({
      wait: { kind: 'approval', requiredApprovals: 1, eligibleRoles: ['admin'], expiresInMs: null },
    });
    expect(
      await executeStep(approvalGate, { eligible_roles: ['admin'], expires_in: '1h30m' }, testStepContext()),
    ).toMatchObject({ wait: { expiresInMs: 5_400_000 } });
  });

  it('rejects bad input as fatal VALIDATION', async () => {
    for (const input of [
      { eligible_roles: ['admin'], expires_in: '24x' },
      { eligible_roles: ['admin'], expires_in: '8d' },
      { eligible_roles: [] },
      {},
      { eligible_roles: ['admin', 'admin'] },
      { eligible_roles: ['admin'], required_approvals: 0 },
    ]) {
      const error = await stepFailure(executeStep(approvalGate, input, testStepContext()));
      expect(error).toMatchObject({ code: 'VALIDATION', retryable: false });
    }
  });
});
