import { performance } from 'node:perf_hooks';
import { AppError, canonicalJson, digestOf, newId } from '@maestro/domain';
import { type PolicyDecisionRecord, recordDecision } from '@maestro/graph';
import type { Context } from './context.ts';

export interface GateRequest {
  action: string;
  subjectId: string | null;
  /** Action-specific facts for the policy (workflow, params, estimate, …). */
  subject?: Record<string, unknown>;
}

/**
 * Asks the policy engine about one lifecycle action and keeps the answer as evidence: every
 * call stores a PolicyDecision (bundle revision and digest, input digest, result, reasons,
 * latency) linked to the actor and subject. Evaluation errors deny (fail closed) with reason
 * `pdp_unavailable`.
 */
export async function decide(ctx: Context, request: GateRequest): Promise<PolicyDecisionRecord> {
  const input = {
    action: request.action,
    actor: { subject: ctx.actor.subject, roles: ctx.actor.roles },
    tenant: { id: ctx.tenant.id, maxConcurrentRuns: ctx.tenant.maxConcurrentRuns },
    request: { environment: ctx.scope.environment, region: ctx.scope.region },
    subject: { id: request.subjectId, ...(request.subject ?? {}) },
  };
  const policy = ctx.resources.policy;
  const started = performance.now();
  let allow = false;
  let reasons: string[];
  try {
    const result = policy.evaluate(input);
    allow = result.allow;
    reasons = result.reasons;
  } catch (error) {
    ctx.resources.logger.error({ err: String(error), action: request.action }, 'policy evaluation failed');
    reasons = ['pdp_unavailable'];
  }
  const decision: PolicyDecisionRecord = {
    id: newId('PolicyDecision'),
    action: request.action,
    allow,
    requiresApproval: false,
    reasons,
    bundleProfile: policy.bundle.profile,
    bundleRevision: policy.bundle.revision,
    bundleDigest: policy.bundle.digest,
    inputDigest: digestOf(input),
    input: canonicalJson(input),
    actor: ctx.actor.subject,
    actorRoles: ctx.actor.roles,
    subjectId: request.subjectId,
    evaluatedAt: ctx.resources.clock().toISOString(),
    latencyMs: performance.now() - started,
  };
  await recordDecision(ctx.resources.graph, ctx.scope, decision);
  return decision;
}

/** Throws POLICY_DENIED with the policy's reasons, verbatim, when the decision denies. */
export function assertAllowed(decision: PolicyDecisionRecord): void {
  if (!decision.allow) {
    throw new AppError('POLICY_DENIED', decision.reasons.join('; ') || `policy denied ${decision.action}`);
  }
}
