import {
  APPROVAL_STATUSES,
  type ApprovalRecord,
  decideApproval,
  getApprovals,
  listApprovals,
  type PolicyDecisionRecord,
} from '@maestro/graph';
import { builder } from '../builder.ts';
import { signalCancel, wakeRun } from '../engine-signals.ts';
import { decide } from '../gate.ts';
import { ActorRef, PageInfoRef, UserErrorRef, type UserErrorShape } from './common.ts';
import { NodeRef, registerNode } from './node.ts';
import { PolicyDecisionRef } from './policy.ts';
import { ApprovalRef, type Connection, RunRef } from './refs.ts';
import { gated } from './run.ts';

const ApprovalStatusEnum = builder.enumType('ApprovalStatus', { values: APPROVAL_STATUSES });
const VerdictEnum = builder.enumType('Verdict', { values: ['APPROVE', 'REJECT'] as const });

const ApprovalDecisionRef = builder
  .objectRef<ApprovalRecord['decisions'][number]>('ApprovalDecision')
  .implement({
    fields: (t) => ({
      approver: t.field({
        type: ActorRef,
        resolve: (d) => ({ subject: d.approver, roles: d.approverRoles }),
      }),
      verdict: t.field({ type: VerdictEnum, resolve: (d) => d.verdict }),
      reason: t.exposeString('reason'),
      at: t.field({ type: 'DateTime', resolve: (d) => d.at }),
    }),
  });

ApprovalRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    run: t.field({
      type: RunRef,
      resolve: async (a, _args, ctx) => {
        const run = await ctx.loaders.run.load(a.runId);
        if (!run) throw new Error(`run ${a.runId} of approval ${a.id} is missing`);
        return run;
      },
    }),
    status: t.field({ type: ApprovalStatusEnum, resolve: (a) => a.status }),
    requiredApprovals: t.exposeInt('requiredApprovals', {
      description: 'How many distinct approvers must approve (2 = dual control).',
    }),
    eligibleRoles: t.exposeStringList('eligibleRoles'),
    requestedBy: t.field({
      type: ActorRef,
      resolve: (a) => ({ subject: a.requestedBy, roles: a.requesterRoles ?? [] }),
    }),
    decisions: t.field({ type: [ApprovalDecisionRef], resolve: (a) => a.decisions }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.expiresAt }),
  }),
});

builder.objectField(RunRef, 'approvals', (t) =>
  t.field({ type: [ApprovalRef], resolve: (run, _args, ctx) => ctx.loaders.approvalsOfRun.load(run.id) }),
);

const ApprovalFilterInput = builder.inputType('ApprovalFilter', {
  fields: (t) => ({
    status: t.field({ type: [ApprovalStatusEnum], required: false }),
    actionableByMe: t.boolean({
      required: false,
      description: 'Only approvals the caller may still decide.',
    }),
  }),
});

const ApprovalEdgeRef = builder
  .objectRef<{ cursor: string; node: ApprovalRecord }>('ApprovalEdge')
  .implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      node: t.field({ type: ApprovalRef, resolve: (e) => e.node }),
    }),
  });

const ApprovalConnectionRef = builder.objectRef<Connection<ApprovalRecord>>('ApprovalConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [ApprovalEdgeRef], resolve: (c) => c.edges }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
  }),
});

builder.queryField('approvals', (t) =>
  t.field({
    type: ApprovalConnectionRef,
    authScopes: { can: 'read' },
    args: {
      filter: t.arg({ type: ApprovalFilterInput, required: false }),
      first: t.arg.int({ required: false, defaultValue: 20 }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const page = await listApprovals(
        ctx.resources.graph,
        ctx.scope,
        {
          status: args.filter?.status ?? null,
          actionableBy: args.filter?.actionableByMe
            ? { subject: ctx.actor.subject, roles: ctx.actor.roles, now: ctx.resources.clock() }
            : null,
        },
        args.first,
        args.after,
      );
      return { edges: page.items, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    },
  }),
);

registerNode(
  'Approval',
  async (id, ctx) => (await getApprovals(ctx.resources.graph, ctx.scope, [id]))[0] ?? null,
);

const DecideApprovalInput = builder.inputType('DecideApprovalInput', {
  fields: (t) => ({
    approvalId: t.id({ required: true }),
    verdict: t.field({ type: VerdictEnum, required: true }),
    reason: t.string({ required: true }),
  }),
});

const DecideApprovalPayloadRef = builder
  .objectRef<{
    approval: ApprovalRecord | null;
    decision: PolicyDecisionRecord | null;
    userErrors: UserErrorShape[];
  }>('DecideApprovalPayload')
  .implement({
    fields: (t) => ({
      approval: t.field({ type: ApprovalRef, nullable: true, resolve: (p) => p.approval }),
      decision: t.field({ type: PolicyDecisionRef, nullable: true, resolve: (p) => p.decision }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationField('decideApproval', (t) =>
  t.field({
    type: DecideApprovalPayloadRef,
    args: { input: t.arg({ type: DecideApprovalInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const approvalId = String(input.approvalId);
      const [approval] = await getApprovals(ctx.resources.graph, ctx.scope, [approvalId]);
      if (!approval) {
        return {
          approval: null,
          decision: null,
          userErrors: [
            { code: 'NOT_FOUND' as const, message: 'approval not found', field: ['input', 'approvalId'] },
          ],
        };
      }
      return gated<{ approval: ApprovalRecord | null }>(
        () =>
          decide(ctx, {
            action: 'approve',
            subjectId: approvalId,
            subjectKind: 'approval',
            approval: {
              requestedBy: approval.requestedBy,
              eligibleRoles: approval.eligibleRoles,
              approvers: approval.decisions.map((d) => d.approver),
              status: approval.status,
            },
            verdict: input.verdict,
          }),
        async () => {
          const decided = await decideApproval(ctx.resources.graph, ctx.scope, {
            approvalId,
            approver: ctx.actor.subject,
            approverRoles: ctx.actor.roles,
            verdict: input.verdict,
            reason: input.reason,
            at: ctx.resources.clock(),
          });
          // Released: a waiting run (or the run of an approval.gate step) moves on; rejected: the
          // run ended, so steps still running anywhere stop.
          if (decided.status === 'APPROVED') await wakeRun(ctx, decided.runId);
          if (decided.status === 'REJECTED') await signalCancel(ctx, decided.runId);
          return { approval: decided };
        },
        { approval: null },
      );
    },
  }),
);
