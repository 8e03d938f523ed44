import { z } from 'zod';
import { durationMs } from './schemas.ts';
import { defineStep } from './step-type.ts';

/**
 * `approval.gate`: parks the task until `required_approvals` distinct people holding one of
 * `eligible_roles` approve (or one rejects, or `expires_in` passes). The engine opens the
 * approval from the returned `wait` and, once approved, records the step's output
 * `{ approvalId, approvers }`.
 */
export const approvalGate = defineStep({
  uses: 'approval.gate',
  input: z.object({
    required_approvals: z.number().int().min(1).max(10).default(1),
    eligible_roles: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(20)
      .refine((roles) => new Set(roles).size === roles.length, 'eligible_roles must be unique'),
    expires_in: durationMs.nullable().optional(),
  }),
  run: async (input) => ({
    wait: {
      kind: 'approval',
      requiredApprovals: input.required_approvals,
      eligibleRoles: input.eligible_roles,
      expiresInMs: input.expires_in ?? null,
    },
  }),
});
