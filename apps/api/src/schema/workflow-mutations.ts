import {
  checkedParams,
  createStartedRun,
  decideStart,
  type GateDecision,
  manifestErrors,
  resolveVersion,
} from '@maestro/control';
import { AppError, estimateRun, type Manifest, parseManifest } from '@maestro/domain';
import {
  type ApprovalRecord,
  linkDecision,
  type PolicyDecisionRecord,
  type RunRecord,
  saveWorkflowVersion,
  type WorkflowVersionRecord,
} from '@maestro/graph';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { wakeRun } from '../engine-signals.ts';
import { decide } from '../gate.ts';
import { UserErrorRef, type UserErrorShape, userErrorsOf } from './common.ts';
import { PolicyDecisionRef } from './policy.ts';
import { ApprovalRef, RunRef, WorkflowVersionRef } from './refs.ts';
import { gated } from './run.ts';

const PublishWorkflowInput = builder.inputType('PublishWorkflowInput', {
  fields: (t) => ({
    manifest: t.string({
      required: true,
      description: 'The manifest in YAML or JSON (see workflow-dsl.md).',
    }),
  }),
});

const PublishWorkflowPayloadRef = builder
  .objectRef<{
    workflowVersion: WorkflowVersionRecord | null;
    decision: PolicyDecisionRecord | null;
    userErrors: UserErrorShape[];
  }>('PublishWorkflowPayload')
  .implement({
    fields: (t) => ({
      workflowVersion: t.field({
        type: WorkflowVersionRef,
        nullable: true,
        resolve: (p) => p.workflowVersion,
      }),
      decision: t.field({ type: PolicyDecisionRef, nullable: true, resolve: (p) => p.decision }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

/**
 * Validates the manifest, asks policy, then stores an immutable version. The same name +
 * version + digest is idempotent; another digest under the same version is a CONFLICT.
 */
async function publish(ctx: Context, source: string) {
  const parsed = parseManifest(source);
  if (!parsed.ok) {
    return {
      workflowVersion: null,
      decision: null,
      userErrors: userErrorsOf(manifestErrors(parsed.errors)) ?? [],
    };
  }
  const { manifest, digest } = parsed;
  return gated<{ workflowVersion: WorkflowVersionRecord | null }>(
    () =>
      decide(ctx, {
        action: 'publish_workflow',
        subjectId: null,
        subjectKind: 'workflow_version',
        workflow: { name: manifest.name, version: manifest.version, risk: manifest.risk ?? null },
        extra: { digest },
      }),
    async (decision) => {
      const saved = await saveWorkflowVersion(ctx.resources.graph, ctx.scope, {
        name: manifest.name,
        version: manifest.version,
        digest,
        manifest,
        publishedBy: ctx.actor.subject,
        publishedByRoles: ctx.actor.roles,
        publishedAt: ctx.resources.clock(),
      });
      await linkDecision(ctx.resources.graph, ctx.scope, decision.id, saved.versionId);
      return { workflowVersion: await ctx.loaders.version.load(saved.versionId) };
    },
    { workflowVersion: null },
  );
}

export const StartRunInput = builder.inputType('StartRunInput', {
  fields: (t) => ({
    workflow: t.string({
      required: true,
      description: 'Workflow name; the latest version unless version is given.',
    }),
    version: t.string({ required: false }),
    params: t.field({ type: 'JSON', required: false }),
    idempotencyKey: t.string({
      required: false,
      description: 'Same key within a tenant returns the same run instead of starting another.',
    }),
  }),
});

export interface StartRunShape {
  run: RunRecord | null;
  decision: PolicyDecisionRecord | null;
  approval: ApprovalRecord | null;
  userErrors: UserErrorShape[];
}

async function startRun(
  ctx: Context,
  input: { workflow: string; version?: string | null; params?: unknown; idempotencyKey?: string | null },
): Promise<StartRunShape> {
  let prepared: { version: WorkflowVersionRecord; manifest: Manifest; params: Record<string, unknown> };
  try {
    if (
      input.idempotencyKey !== null &&
      input.idempotencyKey !== undefined &&
      !/^[\x21-\x7e]{1,200}$/.test(input.idempotencyKey)
    ) {
      throw new AppError('VALIDATION', 'idempotencyKey must be 1 to 200 visible ASCII characters', {
        field: ['input', 'idempotencyKey'],
      });
    }
    const version = await resolveVersion(ctx, input.workflow, input.version);
    const manifest = version.manifest as Manifest;
    prepared = { version, manifest, params: checkedParams(manifest, input.params) };
  } catch (error) {
    const userErrors = userErrorsOf(error);
    if (!userErrors) throw error;
    return { run: null, decision: null, approval: null, userErrors };
  }
  const { version, manifest, params } = prepared;
  const estimate = estimateRun(manifest, params);
  const result = await gated<{ run: RunRecord | null; approval: ApprovalRecord | null }, GateDecision>(
    () => decideStart(ctx, manifest, params, estimate.totalUSD, false),
    async (decision) => {
      const start = { version, manifest, params, idempotencyKey: input.idempotencyKey ?? null };
      const { run, created } = await createStartedRun(ctx, start, decision);
      if (created && run.status === 'PENDING') await wakeRun(ctx, run.id);
      const approvals = await ctx.loaders.approvalsOfRun.load(run.id);
      return { run, approval: approvals.find((a) => a.status === 'PENDING') ?? approvals.at(-1) ?? null };
    },
    { run: null, approval: null },
  );
  return result;
}

const StartRunPayload = builder.objectRef<StartRunShape>('StartRunPayload').implement({
  fields: (t) => ({
    run: t.field({ type: RunRef, nullable: true, resolve: (p) => p.run }),
    decision: t.field({
      type: PolicyDecisionRef,
      nullable: true,
      description: "The gate's decision, allowed or not.",
      resolve: (p) => p.decision,
    }),
    approval: t.field({
      type: ApprovalRef,
      nullable: true,
      description: 'Present when the run waits for approval.',
      resolve: (p) => p.approval,
    }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationFields((t) => ({
  publishWorkflow: t.field({
    type: PublishWorkflowPayloadRef,
    args: { input: t.arg({ type: PublishWorkflowInput, required: true }) },
    resolve: (_root, { input }, ctx) => publish(ctx, input.manifest),
  }),
  startRun: t.field({
    type: StartRunPayload,
    args: { input: t.arg({ type: StartRunInput, required: true }) },
    resolve: (_root, { input }, ctx) => startRun(ctx, input),
  }),
}));
