import {
  newId,
  nextRunAt,
  type ScheduleSpec,
  validateSchedule,
  validateScheduleParams,
} from '@maestro/domain';
import {
  createSchedule,
  getSchedule,
  linkDecision,
  listSchedules,
  type PolicyDecisionRecord,
  type ScheduleRecord,
  updateSchedule,
} from '@maestro/graph';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { decide } from '../gate.ts';
import { UserErrorRef, type UserErrorShape, userErrorsOf } from './common.ts';
import { NodeRef, registerNode } from './node.ts';
import { PolicyDecisionRef } from './policy.ts';
import { WorkflowRef } from './refs.ts';
import { gated } from './run.ts';

const EDIT_SCHEDULE = 'edit_schedule';

export const ScheduleRef = builder.objectRef<ScheduleRecord>('Schedule');

ScheduleRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    workflow: t.field({
      type: WorkflowRef,
      resolve: async (s, _args, ctx) => {
        const w = await ctx.loaders.workflowById.load(s.workflowId);
        if (!w) throw new Error(`workflow ${s.workflowId} of schedule ${s.id} is missing`);
        return w;
      },
    }),
    cron: t.exposeString('cron'),
    timezone: t.exposeString('timezone'),
    params: t.field({ type: 'JSON', resolve: (s) => s.params }),
    enabled: t.exposeBoolean('enabled'),
    // Stored as null while disabled; the check here keeps the promise whatever is stored.
    nextRunAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (s) => (s.enabled ? s.nextRunAt : null),
    }),
  }),
});

const ScheduleInput = builder.inputType('ScheduleInput', {
  fields: (t) => ({
    workflow: t.string({ required: true }),
    cron: t.string({ required: true }),
    timezone: t.string({ required: false, defaultValue: 'UTC' }),
    params: t.field({ type: 'JSON', required: false }),
    enabled: t.boolean({ required: false, defaultValue: true }),
  }),
});

const EditScheduleInput = builder.inputType('EditScheduleInput', {
  fields: (t) => ({
    scheduleId: t.id({ required: true }),
    cron: t.string({ required: false }),
    timezone: t.string({ required: false }),
    params: t.field({ type: 'JSON', required: false }),
    enabled: t.boolean({ required: false }),
  }),
});

interface SchedulePayload {
  schedule: ScheduleRecord | null;
  decision: PolicyDecisionRecord | null;
  userErrors: UserErrorShape[];
}

const SchedulePayloadRef = builder.objectRef<SchedulePayload>('SchedulePayload').implement({
  fields: (t) => ({
    schedule: t.field({ type: ScheduleRef, nullable: true, resolve: (p) => p.schedule }),
    decision: t.field({ type: PolicyDecisionRef, nullable: true, resolve: (p) => p.decision }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

/** Input checks made before asking policy: a failure is the payload's userErrors, no decision. */
function precheck<T>(work: () => T): { ok: true; value: T } | { ok: false; payload: SchedulePayload } {
  try {
    return { ok: true, value: work() };
  } catch (error) {
    const userErrors = userErrorsOf(error);
    if (!userErrors) throw error;
    return { ok: false, payload: { schedule: null, decision: null, userErrors } };
  }
}

function rejected(userErrors: UserErrorShape[]): SchedulePayload {
  return { schedule: null, decision: null, userErrors };
}

/** The first fire time after now, or null for a disabled schedule. */
function upcoming(spec: ScheduleSpec, enabled: boolean, now: Date): Date | null {
  return enabled ? nextRunAt(spec, now) : null;
}

builder.queryField('schedules', (t) =>
  t.field({
    type: [ScheduleRef],
    authScopes: { can: 'read' },
    resolve: (_root, _args, ctx) => listSchedules(ctx.resources.graph, ctx.scope),
  }),
);

registerNode('Schedule', (id, ctx) => getSchedule(ctx.resources.graph, ctx.scope, id));

/** The edit_schedule decision for a create (no id yet) or an edit. */
function decideSchedule(
  ctx: Context,
  scheduleId: string | null,
  workflowName: string,
  schedule: { cron: string; timezone: string; enabled: boolean },
) {
  return decide(ctx, {
    action: EDIT_SCHEDULE,
    subjectId: scheduleId,
    subjectKind: 'schedule',
    workflow: { name: workflowName },
    extra: { schedule: { cron: schedule.cron, timezone: schedule.timezone, enabled: schedule.enabled } },
  });
}

builder.mutationFields((t) => ({
  createSchedule: t.field({
    type: SchedulePayloadRef,
    args: { input: t.arg({ type: ScheduleInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const checked = precheck(() => ({
        spec: validateSchedule({ cron: input.cron, timezone: input.timezone ?? 'UTC' }),
        params: validateScheduleParams(input.params),
      }));
      if (!checked.ok) return checked.payload;
      const { spec, params } = checked.value;
      const enabled = input.enabled ?? true;
      const workflow = await ctx.loaders.workflowByName.load(input.workflow);
      if (!workflow) {
        return rejected([
          {
            code: 'NOT_FOUND',
            message: `workflow ${input.workflow} not found`,
            field: ['input', 'workflow'],
          },
        ]);
      }
      return gated<{ schedule: ScheduleRecord | null }>(
        () => decideSchedule(ctx, null, workflow.name, { ...spec, enabled }),
        async (decision) => {
          const now = ctx.resources.clock();
          const schedule = await createSchedule(ctx.resources.graph, ctx.scope, {
            id: newId('Schedule'),
            workflowName: workflow.name,
            cron: spec.cron,
            timezone: spec.timezone,
            params,
            enabled,
            nextRunAt: upcoming(spec, enabled, now),
            createdBy: ctx.actor.subject,
            at: now,
          });
          // The decision was taken before the schedule existed; link it as evidence now.
          await linkDecision(ctx.resources.graph, ctx.scope, decision.id, schedule.id);
          return { schedule };
        },
        { schedule: null },
      );
    },
  }),
  editSchedule: t.field({
    type: SchedulePayloadRef,
    args: { input: t.arg({ type: EditScheduleInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const scheduleId = String(input.scheduleId);
      const existing = await getSchedule(ctx.resources.graph, ctx.scope, scheduleId);
      if (!existing) {
        return rejected([
          { code: 'NOT_FOUND', message: 'schedule not found', field: ['input', 'scheduleId'] },
        ]);
      }
      // Absent or null fields keep their value; a stored cron/zone is not re-validated.
      const respecified = (input.cron ?? null) !== null || (input.timezone ?? null) !== null;
      const checked = precheck(() => ({
        spec: respecified
          ? validateSchedule({
              cron: input.cron ?? existing.cron,
              timezone: input.timezone ?? existing.timezone,
            })
          : { cron: existing.cron, timezone: existing.timezone },
        params: input.params == null ? undefined : validateScheduleParams(input.params),
      }));
      if (!checked.ok) return checked.payload;
      const { spec, params } = checked.value;
      const enabled = input.enabled ?? existing.enabled;
      return gated<{ schedule: ScheduleRecord | null }>(
        () => decideSchedule(ctx, scheduleId, existing.workflowName, { ...spec, enabled }),
        async () => {
          const now = ctx.resources.clock();
          // Recompute when the timing changes or the schedule is switched on; otherwise keep the
          // stored next run, so an edit of params alone never skips a run that is due.
          const retimed =
            spec.cron !== existing.cron ||
            spec.timezone !== existing.timezone ||
            !existing.enabled ||
            existing.nextRunAt === null;
          const schedule = await updateSchedule(ctx.resources.graph, ctx.scope, scheduleId, {
            cron: spec.cron,
            timezone: spec.timezone,
            ...(params === undefined ? {} : { params }),
            enabled,
            ...(!enabled || retimed ? { nextRunAt: upcoming(spec, enabled, now) } : {}),
            at: now,
          });
          return { schedule };
        },
        { schedule: null },
      );
    },
  }),
}));
