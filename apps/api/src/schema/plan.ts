import { checkedParams, decideStart, resolveVersion } from '@maestro/control';
import { estimateRun, type Manifest, type TaskEstimate } from '@maestro/domain';
import { listWorkflows, type PolicyDecisionRecord } from '@maestro/graph';
import { builder } from '../builder.ts';
import { policyInput } from '../gate.ts';
import { PolicyDecisionRef } from './policy.ts';
import { WorkflowRef } from './refs.ts';
import { StartRunInput } from './workflow-mutations.ts';

const TaskEstimateRef = builder.objectRef<TaskEstimate>('TaskEstimate').implement({
  fields: (t) => ({
    stepId: t.exposeString('stepId'),
    uses: t.exposeString('uses'),
    estimatedCostUSD: t.exposeFloat('estimatedCostUSD'),
  }),
});

const RunPlanRef = builder
  .objectRef<{ estimatedCostUSD: number; tasks: TaskEstimate[]; decision: PolicyDecisionRecord }>('RunPlan')
  .implement({
    fields: (t) => ({
      estimatedCostUSD: t.exposeFloat('estimatedCostUSD'),
      tasks: t.field({ type: [TaskEstimateRef], resolve: (p) => p.tasks }),
      decision: t.field({ type: PolicyDecisionRef, resolve: (p) => p.decision }),
      requiresApproval: t.boolean({ resolve: (p) => p.decision.requiresApproval }),
    }),
  });

builder.queryField('plan', (t) =>
  t.field({
    type: RunPlanRef,
    description: 'What a start would cost and what policy would say, without starting anything.',
    authScopes: { can: 'read' },
    args: { input: t.arg({ type: StartRunInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const version = await resolveVersion(ctx, input.workflow, input.version);
      const manifest = version.manifest as Manifest;
      const params = checkedParams(manifest, input.params);
      const estimate = estimateRun(manifest, params);
      const decision = await decideStart(ctx, manifest, params, estimate.totalUSD, true);
      return { estimatedCostUSD: estimate.totalUSD, tasks: estimate.tasks, decision };
    },
  }),
);

const ActionKindEnum = builder.enumType('ActionKind', {
  values: ['START_WORKFLOW', 'CANCEL_RUN', 'RERUN_TASK', 'DECIDE_APPROVAL', 'NAVIGATE'] as const,
});

interface PaletteActionShape {
  id: string;
  kind: 'START_WORKFLOW' | 'CANCEL_RUN' | 'RERUN_TASK' | 'DECIDE_APPROVAL' | 'NAVIGATE';
  label: string;
  workflowName: string | null;
  requiresApproval: boolean;
  paramsSchema: unknown;
}

const PaletteActionRef = builder.objectRef<PaletteActionShape>('PaletteAction').implement({
  description: 'An action the command palette may offer; only policy-permitted ones are returned.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: ActionKindEnum, resolve: (a) => a.kind }),
    label: t.exposeString('label'),
    workflow: t.field({
      type: WorkflowRef,
      nullable: true,
      resolve: (a, _args, ctx) => (a.workflowName ? ctx.loaders.workflowByName.load(a.workflowName) : null),
    }),
    requiresApproval: t.exposeBoolean('requiresApproval'),
    paramsSchema: t.field({
      type: 'JSON',
      nullable: true,
      description: 'JSON Schema of the parameters form, when the action takes parameters.',
      resolve: (a) => a.paramsSchema,
    }),
  }),
});

/** The manifest's params as a JSON Schema object for a generated form. */
function paramsSchema(manifest: Manifest): unknown {
  const properties = manifest.params ?? {};
  const required = Object.entries(properties)
    .filter(([, spec]) => spec.default === undefined)
    .map(([name]) => name);
  return { type: 'object', properties, required, additionalProperties: false };
}

builder.queryField('paletteActions', (t) =>
  t.field({
    type: [PaletteActionRef],
    authScopes: { can: 'read' },
    args: { search: t.arg.string({ required: false }), runId: t.arg.id({ required: false }) },
    resolve: async (_root, args, ctx) => {
      // Role checks come from the compiled policy (one evaluation per action kind, in process).
      const kinds = ['start_workflow', 'cancel_run', 'rerun_task', 'approve'] as const;
      const allowed = new Map(
        await Promise.all(kinds.map(async (k) => [k, await ctx.resources.authorize(k, ctx.actor)] as const)),
      );
      const can = (action: (typeof kinds)[number]) => allowed.get(action) === true;
      const search = (args.search ?? '').trim().toLowerCase().slice(0, 100);
      const matches = (label: string) => search === '' || label.toLowerCase().includes(search);
      const actions: PaletteActionShape[] = [];
      const workflows = (await listWorkflows(ctx.resources.graph, ctx.scope, 100, null)).items.map(
        (i) => i.node,
      );
      const mayStart = can('start_workflow');
      // The caller's tenant facts are the same for every row: gathered once.
      const startInput = mayStart
        ? await policyInput(ctx, { action: 'start_workflow', subjectId: null, estimatedCostUSD: 0 })
        : {};
      for (const w of workflows) {
        const version = w.latestVersionId ? await ctx.loaders.version.load(w.latestVersionId) : null;
        const manifest = version?.manifest as Manifest | undefined;
        if (matches(`open ${w.name}`)) {
          actions.push({
            id: `navigate:${w.id}`,
            kind: 'NAVIGATE',
            label: `Open ${w.name}`,
            workflowName: w.name,
            requiresApproval: false,
            paramsSchema: null,
          });
        }
        if (mayStart && manifest && matches(`start ${w.name}`)) {
          actions.push({
            id: `start:${w.id}`,
            kind: 'START_WORKFLOW',
            label: `Start ${w.name}`,
            workflowName: w.name,
            // Asked of the policy (not recorded: nothing is being started), never re-derived here.
            requiresApproval: (
              await ctx.resources.policy.decide('start_workflow', {
                ...startInput,
                subject: {
                  kind: 'run',
                  workflow: {
                    name: w.name,
                    version: manifest.version,
                    risk: manifest.risk ?? null,
                    region: ctx.scope.region,
                    environment: ctx.scope.environment,
                  },
                },
              })
            ).requiresApproval,
            paramsSchema: paramsSchema(manifest),
          });
        }
      }
      if (args.runId) {
        const run = await ctx.loaders.run.load(String(args.runId));
        const active = run && ['PENDING', 'RUNNING', 'AWAITING_APPROVAL'].includes(run.status);
        if (run && active && can('cancel_run') && matches('cancel run')) {
          actions.push({
            id: `cancel:${run.id}`,
            kind: 'CANCEL_RUN',
            label: `Cancel run ${run.id}`,
            workflowName: run.workflowName,
            requiresApproval: false,
            paramsSchema: null,
          });
        }
        if (run && can('rerun_task') && matches('rerun task')) {
          for (const task of await ctx.loaders.tasksOfRun.load(run.id)) {
            if (['FAILED', 'CANCELLED', 'SUCCEEDED', 'SKIPPED'].includes(task.status)) {
              actions.push({
                id: `rerun:${task.id}`,
                kind: 'RERUN_TASK',
                label: `Rerun ${task.stepId}`,
                workflowName: run.workflowName,
                requiresApproval: false,
                paramsSchema: null,
              });
            }
          }
        }
        if (run && can('approve') && matches('decide approval')) {
          for (const a of await ctx.loaders.approvalsOfRun.load(run.id)) {
            if (a.status === 'PENDING' && a.requestedBy !== ctx.actor.subject) {
              actions.push({
                id: `decide:${a.id}`,
                kind: 'DECIDE_APPROVAL',
                label: `Decide approval for ${run.workflowName}`,
                workflowName: run.workflowName,
                requiresApproval: false,
                paramsSchema: null,
              });
            }
          }
        }
      }
      return actions;
    },
  }),
);
