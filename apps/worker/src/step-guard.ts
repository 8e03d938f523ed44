import { canonicalJson, type Scope } from '@maestro/domain';
import { decisionRecordOf, type Graph, recordDecision } from '@maestro/graph';
import type { PolicyEngine, PolicyInput } from '@maestro/policy';
import { fatal, type StepGuard } from '@maestro/steps';

export interface StepGuardTask {
  scope: Scope;
  runId: string;
  taskId: string;
  uses: string;
  /** The run's initiator: steps act on their behalf. */
  actor: { subject: string; roles: string[] };
}

/**
 * The per-step policy checks (egress for http.request, models for llm.generate): each check is
 * a `step_egress` / `step_model` decision stored as evidence on the task, and a denial stops
 * the step with a fatal POLICY_DENIED carrying the policy's reasons.
 */
export function createPolicyStepGuard(
  deps: { policy: PolicyEngine; graph: Graph; clock: () => Date },
  task: StepGuardTask,
): StepGuard {
  async function check(action: 'step_egress' | 'step_model', step: Record<string, unknown>): Promise<void> {
    const input: PolicyInput = {
      actor: {
        sub: task.actor.subject,
        subject: task.actor.subject,
        roles: task.actor.roles,
        tenant: task.scope.tenantId,
      },
      tenant: { id: task.scope.tenantId },
      request: { environment: task.scope.environment, region: task.scope.region },
      subject: { id: task.taskId, kind: 'step', runId: task.runId, step: { uses: task.uses, ...step } },
    };
    const decision = await deps.policy.decide(action, input);
    await recordDecision(
      deps.graph,
      task.scope,
      decisionRecordOf(decision, {
        action,
        input: canonicalJson({ ...input, action }),
        actor: task.actor.subject,
        actorRoles: task.actor.roles,
        subjectId: task.taskId,
        at: deps.clock(),
      }),
    );
    if (!decision.allow) {
      throw fatal('POLICY_DENIED', decision.reasons.join('; ') || `policy denied ${action}`);
    }
  }
  return {
    checkEgress: (url) => check('step_egress', { url: url.href, host: url.hostname }),
    checkModel: (model) => check('step_model', { model }),
  };
}
