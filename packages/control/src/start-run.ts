import {
  AppError,
  AppErrors,
  estimateRun,
  initialTasks,
  type Manifest,
  type ManifestProblem,
  newId,
  validateParams,
} from '@maestro/domain';
import {
  createRun,
  linkDecision,
  listVersionsOf,
  type RunRecord,
  type WorkflowVersionRecord,
} from '@maestro/graph';
import semver from 'semver';
import { decide, type GateContext, type GateDecision } from './gate.ts';

/** How long a policy-required approval stays open before it expires (the run is then REJECTED). */
export const APPROVAL_TTL_MS = 24 * 3600_000;

export function manifestErrors(problems: ManifestProblem[], prefix: string[] = []): AppErrors {
  return new AppErrors(
    problems.map((p) => new AppError('VALIDATION', p.message, { field: [...prefix, ...p.field] })),
  );
}

/** The highest semver wins, whatever order versions were published in. */
export function latestVersion(versions: WorkflowVersionRecord[]): WorkflowVersionRecord | null {
  return versions.reduce<WorkflowVersionRecord | null>(
    (best, v) => (best === null || semver.gt(v.version, best.version) ? v : best),
    null,
  );
}

/** Resolves the workflow version a start (or a plan) is about; user errors name the input field. */
export async function resolveVersion(
  ctx: GateContext,
  workflow: string,
  version: string | null | undefined,
): Promise<WorkflowVersionRecord> {
  const versions = await listVersionsOf(ctx.resources.graph, ctx.scope, workflow);
  if (versions.length === 0)
    throw new AppError('NOT_FOUND', `workflow ${workflow} not found`, { field: ['input', 'workflow'] });
  const chosen = version ? versions.find((v) => v.version === version) : latestVersion(versions);
  if (!chosen)
    throw new AppError('NOT_FOUND', `version ${version} of ${workflow} not found`, {
      field: ['input', 'version'],
    });
  return chosen;
}

/** Params validated against the manifest with defaults applied; problems name `input.params.<name>`. */
export function checkedParams(manifest: Manifest, params: unknown): Record<string, unknown> {
  const result = validateParams(manifest, params ?? {});
  if (!result.ok) throw manifestErrors(result.errors, ['input']);
  return result.values;
}

/** The `start_workflow` decision for a start or a plan of one (the same input either way). */
export function decideStart(
  ctx: GateContext,
  manifest: Manifest,
  params: Record<string, unknown>,
  estimatedCostUSD: number,
  plan: boolean,
): Promise<GateDecision> {
  return decide(ctx, {
    action: 'start_workflow',
    subjectId: null,
    subjectKind: 'run',
    workflow: { name: manifest.name, version: manifest.version, risk: manifest.risk ?? null },
    estimatedCostUSD,
    params,
    extra: { plan },
  });
}

export interface PreparedStart {
  version: WorkflowVersionRecord;
  manifest: Manifest;
  params: Record<string, unknown>;
  idempotencyKey: string | null;
}

/**
 * Creates the run of an allowed start decision: PENDING, or AWAITING_APPROVAL with its
 * Approval when policy requires one; the decision is linked to the new run. The same
 * idempotency key returns the existing run (`created: false`). The caller wakes the engine.
 */
export async function createStartedRun(
  ctx: GateContext,
  start: PreparedStart,
  decision: GateDecision,
): Promise<{ run: RunRecord; created: boolean }> {
  const { version, manifest, params } = start;
  const needsApproval = decision.requiresApproval;
  const { run, created } = await createRun(ctx.resources.graph, ctx.scope, {
    id: newId('Run'),
    workflowVersionId: version.id,
    status: needsApproval ? 'AWAITING_APPROVAL' : 'PENDING',
    approval: needsApproval
      ? {
          id: newId('Approval'),
          requiredApprovals: decision.approval.count,
          eligibleRoles: decision.approval.roles,
          expiresAt: new Date(ctx.resources.clock().getTime() + APPROVAL_TTL_MS),
        }
      : null,
    params,
    initiatedBy: ctx.actor.subject,
    initiatorRoles: ctx.actor.roles,
    idempotencyKey: start.idempotencyKey,
    estimatedCostUSD: estimateRun(manifest, params).totalUSD,
    createdAt: ctx.resources.clock(),
    tasks: initialTasks(manifest, version.digest, params, () => newId('Task')),
  });
  if (created) await linkDecision(ctx.resources.graph, ctx.scope, decision.id, run.id);
  return { run, created };
}
