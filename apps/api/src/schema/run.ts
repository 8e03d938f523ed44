import type { PolicyDecisionRecord, RunRecord } from '@maestro/graph';
import {
  cancelRun,
  listDecisions,
  listTimeline,
  rerunTask,
  runNeighbourhood,
  runsTouchingResource,
  TASK_STATUSES,
  taskExists,
} from '@maestro/graph';
import { builder } from '../builder.ts';
import { signalCancel, wakeRun } from '../engine-signals.ts';
import { assertAllowed, decide } from '../gate.ts';
import { ActorRef, UserErrorRef, type UserErrorShape, userErrorsOf } from './common.ts';
import { NodeRef, registerNode } from './node.ts';
import { PolicyDecisionRef } from './policy.ts';
import {
  RunConnectionRef,
  RunRef,
  TaskRef,
  TimelineEventRef,
  WorkflowRef,
  WorkflowVersionRef,
} from './refs.ts';
import { RunStatusEnum } from './run-connection.ts';
import { TenantRef } from './viewer.ts';

const TaskStatusEnum = builder.enumType('TaskStatus', { values: TASK_STATUSES });

TaskRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    stepId: t.exposeString('stepId'),
    uses: t.exposeString('uses'),
    status: t.field({
      type: TaskStatusEnum,
      resolve: (task) => task.status as (typeof TASK_STATUSES)[number],
    }),
    attempt: t.exposeInt('attempt', { description: '1 for the first attempt.' }),
    needs: t.exposeStringList('needs'),
    idempotencyKey: t.exposeString('idempotencyKey', {
      description: 'Stable across retries and redeliveries of the same step input.',
    }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (task) => task.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (task) => task.finishedAt }),
    output: t.field({ type: 'JSON', nullable: true, resolve: (task) => task.output }),
    error: t.exposeString('error', { nullable: true }),
    errorCode: t.exposeString('errorCode', {
      nullable: true,
      description: 'Code of the last failure: TIMEOUT, HTTP_5XX, EXIT_NONZERO, VALIDATION, ...',
    }),
    itemIndex: t.exposeInt('itemIndex', {
      nullable: true,
      description: 'Index of the item in a foreach step.',
    }),
    deadLetter: t.exposeBoolean('deadLetter', {
      description: 'Failed after exhausting its retries on retryable errors; replay it with rerunTask.',
    }),
    costUSD: t.exposeFloat('costUSD'),
  }),
});

TimelineEventRef.implement({
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    type: t.exposeString('type', {
      description: 'e.g. run.status, task.status, approval.decided, policy.decision',
    }),
    subjectId: t.exposeID('subjectId'),
    from: t.exposeString('from', { nullable: true }),
    to: t.exposeString('to', { nullable: true }),
    message: t.exposeString('message', { nullable: true }),
    actor: t.field({
      type: ActorRef,
      nullable: true,
      resolve: (e) => (e.actor ? { subject: e.actor, roles: [] } : null),
    }),
  }),
});

const GraphNodeRef = builder
  .objectRef<{ id: string; label: string; name: string; properties: Record<string, unknown> }>('GraphNode')
  .implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      label: t.exposeString('label'),
      name: t.exposeString('name'),
      properties: t.field({ type: 'JSON', resolve: (n) => n.properties }),
    }),
  });

const GraphEdgeRef = builder.objectRef<{ from: string; to: string; type: string }>('GraphEdge').implement({
  fields: (t) => ({ from: t.exposeID('from'), to: t.exposeID('to'), type: t.exposeString('type') }),
});

const GraphViewRef = builder
  .objectRef<{
    nodes: Array<{ id: string; label: string; name: string; properties: Record<string, unknown> }>;
    edges: Array<{ from: string; to: string; type: string }>;
  }>('GraphView')
  .implement({
    fields: (t) => ({
      nodes: t.field({ type: [GraphNodeRef], resolve: (g) => g.nodes }),
      edges: t.field({ type: [GraphEdgeRef], resolve: (g) => g.edges }),
    }),
  });

RunRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    tenant: t.field({ type: TenantRef, resolve: (_run, _args, ctx) => ctx.tenant }),
    environment: t.exposeString('environment'),
    region: t.exposeString('region'),
    workflow: t.field({
      type: WorkflowRef,
      resolve: async (run, _args, ctx) => {
        const w = await ctx.loaders.workflowById.load(run.workflowId);
        if (!w) throw new Error(`workflow ${run.workflowId} of run ${run.id} is missing`);
        return w;
      },
    }),
    workflowVersion: t.field({
      type: WorkflowVersionRef,
      resolve: async (run, _args, ctx) => {
        const v = await ctx.loaders.version.load(run.workflowVersionId);
        if (!v) throw new Error(`version ${run.workflowVersionId} of run ${run.id} is missing`);
        return v;
      },
    }),
    status: t.field({ type: RunStatusEnum, resolve: (run) => run.status }),
    params: t.field({ type: 'JSON', resolve: (run) => run.params }),
    initiatedBy: t.field({
      type: ActorRef,
      resolve: (run) => ({ subject: run.initiatedBy, roles: run.initiatorRoles }),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (run) => run.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (run) => run.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (run) => run.finishedAt }),
    statusMessage: t.exposeString('statusMessage', {
      nullable: true,
      description: 'Why the run ended as it did (failed step, timeout, cancel reason).',
    }),
    estimatedCostUSD: t.exposeFloat('estimatedCostUSD', { nullable: true }),
    costUSD: t.exposeFloat('costUSD'),
    tasks: t.field({ type: [TaskRef], resolve: (run, _args, ctx) => ctx.loaders.tasksOfRun.load(run.id) }),
    timeline: t.field({
      type: [TimelineEventRef],
      description: 'State changes of the run and its tasks, oldest first.',
      args: {
        first: t.arg.int({ required: false, defaultValue: 500 }),
        after: t.arg.string({ required: false }),
      },
      resolve: async (run, args, ctx) =>
        (await listTimeline(ctx.resources.graph, ctx.scope, run.id, args.first ?? 500, args.after)).events,
    }),
    policyDecisions: t.field({
      type: [PolicyDecisionRef],
      resolve: async (run, _args, ctx) =>
        (await listDecisions(ctx.resources.graph, ctx.scope, { subjectId: run.id }, 100, null)).items.map(
          (i) => i.node,
        ),
    }),
    graph: t.field({
      type: GraphViewRef,
      description: "The run's neighbourhood in the graph, for the graph pane.",
      args: { depth: t.arg.int({ required: false, defaultValue: 1 }) },
      resolve: async (run, args, ctx) =>
        (await runNeighbourhood(ctx.resources.graph, ctx.scope, run.id, args.depth ?? 1)) ?? {
          nodes: [],
          edges: [],
        },
    }),
  }),
});

builder.queryFields((t) => ({
  run: t.field({
    type: RunRef,
    nullable: true,
    authScopes: { can: 'read' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.loaders.run.load(String(id)),
  }),
  runsTouchingResource: t.field({
    type: RunConnectionRef,
    description: 'Runs whose tasks touched a resource (lineage).',
    authScopes: { can: 'read' },
    args: {
      uri: t.arg.string({ required: true }),
      first: t.arg.int({ required: false, defaultValue: 20 }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const page = await runsTouchingResource(
        ctx.resources.graph,
        ctx.scope,
        args.uri,
        args.first,
        args.after,
      );
      return {
        edges: page.items,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: () => page.totalCount,
      };
    },
  }),
}));

registerNode('Run', (id, ctx) => ctx.loaders.run.load(id));

const CancelRunInput = builder.inputType('CancelRunInput', {
  fields: (t) => ({ runId: t.id({ required: true }), reason: t.string({ required: false }) }),
});

const RerunTaskInput = builder.inputType('RerunTaskInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    downstream: t.boolean({
      required: false,
      defaultValue: true,
      description: 'Also rerun every task downstream of it.',
    }),
  }),
});

export interface RunPayload {
  run: RunRecord | null;
  decision: PolicyDecisionRecord | null;
  userErrors: UserErrorShape[];
}

function runPayloadRef(name: string) {
  return builder.objectRef<RunPayload>(name).implement({
    fields: (t) => ({
      run: t.field({ type: RunRef, nullable: true, resolve: (p) => p.run }),
      decision: t.field({ type: PolicyDecisionRef, nullable: true, resolve: (p) => p.decision }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

const CancelRunPayloadRef = runPayloadRef('CancelRunPayload');
const RerunTaskPayloadRef = runPayloadRef('RerunTaskPayload');

/**
 * Runs a policy-gated mutation: the decision is made and stored first; a denial comes back as
 * a POLICY_DENIED user error beside the decision; other expected failures as user errors too.
 */
export async function gated<D extends object, R extends PolicyDecisionRecord = PolicyDecisionRecord>(
  decisionOf: () => Promise<R>,
  work: (decision: R) => Promise<D>,
  empty: D,
): Promise<D & { decision: PolicyDecisionRecord | null; userErrors: UserErrorShape[] }> {
  let decision: R | null = null;
  try {
    decision = await decisionOf();
    assertAllowed(decision);
    return { ...(await work(decision)), decision, userErrors: [] };
  } catch (error) {
    const userErrors = userErrorsOf(error);
    if (userErrors) return { ...empty, decision, userErrors };
    throw error;
  }
}

builder.mutationFields((t) => ({
  cancelRun: t.field({
    type: CancelRunPayloadRef,
    args: { input: t.arg({ type: CancelRunInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const runId = String(input.runId);
      const run = await ctx.loaders.run.load(runId);
      if (!run) return { run: null, decision: null, userErrors: [notFound('run', ['input', 'runId'])] };
      return gated<{ run: RunRecord | null }>(
        () =>
          decide(ctx, {
            action: 'cancel_run',
            subjectId: runId,
            subjectKind: 'run',
            workflow: { name: run.workflowName, version: run.version },
          }),
        async () => {
          const cancelled = await cancelRun(ctx.resources.graph, ctx.scope, {
            runId,
            actor: ctx.actor.subject,
            reason: input.reason ?? null,
            at: ctx.resources.clock(),
          });
          await signalCancel(ctx, runId);
          return { run: cancelled };
        },
        { run: null },
      );
    },
  }),
  rerunTask: t.field({
    type: RerunTaskPayloadRef,
    args: { input: t.arg({ type: RerunTaskInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const taskId = String(input.taskId);
      if (!(await taskExists(ctx.resources.graph, ctx.scope, taskId))) {
        return { run: null, decision: null, userErrors: [notFound('task', ['input', 'taskId'])] };
      }
      return gated<{ run: RunRecord | null }>(
        () => decide(ctx, { action: 'rerun_task', subjectId: taskId, subjectKind: 'task' }),
        async () => {
          const rerun = await rerunTask(ctx.resources.graph, ctx.scope, {
            taskId,
            downstream: input.downstream ?? true,
            actor: ctx.actor.subject,
            at: ctx.resources.clock(),
          });
          await wakeRun(ctx, rerun.id);
          return { run: rerun };
        },
        { run: null },
      );
    },
  }),
}));

function notFound(what: string, field: string[]): UserErrorShape {
  return { code: 'NOT_FOUND', message: `${what} not found`, field };
}
