import type { Scope } from '@maestro/domain';
import { AppError, canonicalJson, type UserErrorCode } from '@maestro/domain';
import type { Graph } from '@maestro/graph';
import { countActiveRuns, decisionRecordOf, type PolicyDecisionRecord, recordDecision } from '@maestro/graph';
import type { Decision, PolicyEngine, PolicyInput } from '@maestro/policy';

/**
 * Who acts, in which tenant and scope, with which services: the API's request context and the
 * worker's scheduler both fit this shape.
 */
export interface GateContext {
  actor: { subject: string; roles: string[] };
  tenant: {
    id: string;
    maxConcurrentRuns: number;
    dailyBudgetUsd: string | number;
    alertThreshold: string | number;
  };
  scope: Scope;
  resources: { graph: Graph; policy: PolicyEngine; clock: () => Date };
}

/** What a gated action is about; everything here reaches the policy input's `subject`. */
export interface GateRequest {
  action: string;
  subjectId: string | null;
  subjectKind?: 'workflow' | 'workflow_version' | 'run' | 'task' | 'approval' | 'schedule' | 'member';
  workflow?: { name: string; version?: string; risk?: string | null };
  /** The run's cost estimate, for budget checks. */
  estimatedCostUSD?: number;
  approval?: { requestedBy: string; eligibleRoles: string[]; approvers: string[]; status: string };
  verdict?: 'APPROVE' | 'REJECT';
  /** Run parameters, for the data-class check. */
  params?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

export type GateDecision = PolicyDecisionRecord & { approval: Decision['approval']; warnings: string[] };

/** The policy input (seed 003 §8, extended): actor, tenant quota/budget, request, plan, subject. */
export async function policyInput(ctx: GateContext, request: GateRequest): Promise<PolicyInput> {
  const inUse =
    request.action === 'start_workflow' ? await countActiveRuns(ctx.resources.graph, ctx.scope) : undefined;
  return {
    actor: {
      sub: ctx.actor.subject,
      subject: ctx.actor.subject,
      roles: ctx.actor.roles,
      tenant: ctx.tenant.id,
    },
    tenant: {
      id: ctx.tenant.id,
      quota: { maxConcurrent: ctx.tenant.maxConcurrentRuns, ...(inUse === undefined ? {} : { inUse }) },
      // Spend is settled by the engine into the spend ledger (approvals/budgets issue); none yet.
      budget: {
        dailyMaxUSD: Number(ctx.tenant.dailyBudgetUsd),
        spentUSD: 0,
        alertThreshold: Number(ctx.tenant.alertThreshold),
      },
    },
    request: { environment: ctx.scope.environment, region: ctx.scope.region },
    ...(request.estimatedCostUSD === undefined
      ? {}
      : { plan: { estimatedCostUSD: request.estimatedCostUSD } }),
    subject: {
      id: request.subjectId,
      ...(request.subjectKind ? { kind: request.subjectKind } : {}),
      ...(request.workflow
        ? {
            workflow: {
              ...request.workflow,
              risk: request.workflow.risk ?? null,
              region: ctx.scope.region,
              environment: ctx.scope.environment,
            },
          }
        : {}),
      ...(request.approval ? { approval: request.approval } : {}),
      ...(request.verdict ? { verdict: request.verdict } : {}),
      ...(request.params ? { params: request.params } : {}),
      ...(request.extra ?? {}),
    },
  };
}

/**
 * Asks the policy engine about one lifecycle action and keeps the answer as evidence: every
 * call stores a PolicyDecision (bundle revision and digest, canonical input and its digest,
 * result, reasons, latency) linked to the actor and subject. The engine fails closed: an
 * unavailable decision point is a denial with reason `pdp_unavailable: …`, stored like any other.
 */
export async function decide(ctx: GateContext, request: GateRequest): Promise<GateDecision> {
  const input = await policyInput(ctx, request);
  const decision = await ctx.resources.policy.decide(request.action, input);
  const record = decisionRecordOf(decision, {
    action: request.action,
    input: canonicalJson({ ...input, action: request.action }),
    actor: ctx.actor.subject,
    actorRoles: ctx.actor.roles,
    subjectId: request.subjectId,
    at: ctx.resources.clock(),
  });
  await recordDecision(ctx.resources.graph, ctx.scope, record);
  return { ...record, approval: decision.approval, warnings: decision.warnings };
}

const CODE_OF_REASON: Record<string, UserErrorCode> = {
  quota_exceeded: 'QUOTA_EXCEEDED',
  budget_exceeded: 'BUDGET_EXCEEDED',
};

/**
 * Throws when the decision denies: QUOTA_EXCEEDED / BUDGET_EXCEEDED when that is the policy's
 * first reason, POLICY_DENIED otherwise; the message is the policy's reasons, verbatim.
 */
export function assertAllowed(decision: PolicyDecisionRecord): void {
  if (decision.allow) return;
  const code = CODE_OF_REASON[decision.reasons[0]?.split(':')[0] ?? ''] ?? 'POLICY_DENIED';
  throw new AppError(code, decision.reasons.join('; ') || `policy denied ${decision.action}`);
}
