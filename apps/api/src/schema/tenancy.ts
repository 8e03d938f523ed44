/**
 * Tenancy: tenants are created by platform operators (`createTenant`, policy action
 * `create_tenant`, which only `platform_admin` holds); members are managed by tenant admins
 * inside their own tenant (`setMember`, action `manage_members`) and listed by any member
 * (`members`, action `read`). Tenants and members live in Postgres only.
 */
import {
  createTenantWithAdmins,
  listMembers,
  MEMBER_ROLES,
  type MemberRecord,
  type MemberRoleName,
  removeMember,
  setMember,
  type TenantRecord,
} from '@maestro/db';
import { AppError, AppErrors } from '@maestro/domain';
import { builder } from '../builder.ts';
import { type Context, platformContextRefusal } from '../context.ts';
import { assertAllowed, decide } from '../gate.ts';
import { UserErrorRef, type UserErrorShape, withUserErrors } from './common.ts';
import { TenantRef } from './viewer.ts';

/** The contract's defaults (CreateTenantInput) and the bounds a new tenant must respect. */
const TENANT_DEFAULTS = { dailyBudgetUSD: 100, alertThreshold: 0.8, maxConcurrentRuns: 25 } as const;
const LIMITS = {
  nameLength: 100,
  maxDailyBudgetUSD: 1e6,
  maxConcurrentRuns: 10_000,
  maxAdmins: 100,
  subjectLength: 256,
} as const;
/** alert_threshold is Decimal(5,4): anything below this would be stored as 0. */
const MIN_ALERT_THRESHOLD = 0.0001;
const CONTROL_CHARS = /\p{Cc}/u;

interface MemberShape {
  subject: string;
  role: string;
}

const MemberRef = builder.objectRef<MemberShape>('Member').implement({
  fields: (t) => ({
    subject: t.exposeString('subject'),
    role: t.exposeString('role'),
  }),
});

const toMember = (m: MemberRecord): MemberShape => ({ subject: m.subject, role: m.role });

const CreateTenantInput = builder.inputType('CreateTenantInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    dailyBudgetUSD: t.float({ required: false, defaultValue: TENANT_DEFAULTS.dailyBudgetUSD }),
    alertThreshold: t.float({
      required: false,
      defaultValue: TENANT_DEFAULTS.alertThreshold,
      description: 'Fraction of the daily budget at which a warning is raised.',
    }),
    maxConcurrentRuns: t.int({ required: false, defaultValue: TENANT_DEFAULTS.maxConcurrentRuns }),
    admins: t.stringList({ required: true, description: 'Subjects made admin of the new tenant.' }),
  }),
});

const CreateTenantPayloadRef = builder
  .objectRef<{ tenant: TenantRecord | null; userErrors: UserErrorShape[] }>('CreateTenantPayload')
  .implement({
    fields: (t) => ({
      tenant: t.field({ type: TenantRef, nullable: true, resolve: (p) => p.tenant }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const SetMemberInput = builder.inputType('SetMemberInput', {
  fields: (t) => ({
    subject: t.string({ required: true }),
    role: t.string({
      required: false,
      description: 'admin | operator | composer | viewer; null removes the member.',
    }),
  }),
});

const SetMemberPayloadRef = builder
  .objectRef<{ member: MemberShape | null; userErrors: UserErrorShape[] }>('SetMemberPayload')
  .implement({
    fields: (t) => ({
      member: t.field({ type: MemberRef, nullable: true, resolve: (p) => p.member }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

// ---------------------------------------------------------------- validation

const invalid = (message: string, field: string[]) => new AppError('VALIDATION', message, { field });

/** A subject as tokens carry it (`sub`): 1..256 characters, no control characters, no padding. */
function subjectProblem(subject: string): string | null {
  if (subject.trim() === '') return 'must not be empty';
  if (subject.length > LIMITS.subjectLength) return `must be at most ${LIMITS.subjectLength} characters`;
  if (subject !== subject.trim()) return 'must not start or end with whitespace';
  if (CONTROL_CHARS.test(subject)) return 'must not contain control characters';
  return null;
}

interface ValidTenantInput {
  name: string;
  dailyBudgetUsd: number;
  alertThreshold: number;
  maxConcurrentRuns: number;
  admins: string[];
}

/** Every problem at once, as VALIDATION user errors on ['input', …]; explicit nulls take the defaults. */
function validateCreateTenant(input: {
  name: string;
  dailyBudgetUSD?: number | null | undefined;
  alertThreshold?: number | null | undefined;
  maxConcurrentRuns?: number | null | undefined;
  admins: string[];
}): ValidTenantInput {
  const problems: AppError[] = [];
  const name = input.name.trim();
  const nameLength = [...name].length;
  if (nameLength === 0) problems.push(invalid('name must not be empty', ['input', 'name']));
  else if (nameLength > LIMITS.nameLength) {
    problems.push(invalid(`name must be at most ${LIMITS.nameLength} characters`, ['input', 'name']));
  } else if (CONTROL_CHARS.test(name)) {
    problems.push(invalid('name must not contain control characters', ['input', 'name']));
  }

  const dailyBudgetUsd = input.dailyBudgetUSD ?? TENANT_DEFAULTS.dailyBudgetUSD;
  if (!Number.isFinite(dailyBudgetUsd) || dailyBudgetUsd < 0 || dailyBudgetUsd > LIMITS.maxDailyBudgetUSD) {
    problems.push(
      invalid(`dailyBudgetUSD must be between 0 and ${LIMITS.maxDailyBudgetUSD}`, [
        'input',
        'dailyBudgetUSD',
      ]),
    );
  }
  const alertThreshold = input.alertThreshold ?? TENANT_DEFAULTS.alertThreshold;
  if (!Number.isFinite(alertThreshold) || alertThreshold < MIN_ALERT_THRESHOLD || alertThreshold > 1) {
    problems.push(
      invalid(`alertThreshold must be in (0, 1] (at least ${MIN_ALERT_THRESHOLD})`, [
        'input',
        'alertThreshold',
      ]),
    );
  }
  const maxConcurrentRuns = input.maxConcurrentRuns ?? TENANT_DEFAULTS.maxConcurrentRuns;
  if (
    !Number.isInteger(maxConcurrentRuns) ||
    maxConcurrentRuns < 1 ||
    maxConcurrentRuns > LIMITS.maxConcurrentRuns
  ) {
    problems.push(
      invalid(`maxConcurrentRuns must be between 1 and ${LIMITS.maxConcurrentRuns}`, [
        'input',
        'maxConcurrentRuns',
      ]),
    );
  }

  if (input.admins.length === 0) {
    problems.push(invalid('admins must name at least one subject', ['input', 'admins']));
  } else if (input.admins.length > LIMITS.maxAdmins) {
    problems.push(invalid(`admins may name at most ${LIMITS.maxAdmins} subjects`, ['input', 'admins']));
  } else {
    input.admins.forEach((subject, i) => {
      const problem = subjectProblem(subject);
      if (problem) problems.push(invalid(`admin subject ${problem}`, ['input', 'admins', String(i)]));
    });
  }

  if (problems.length > 0) throw new AppErrors(problems);
  return {
    name,
    dailyBudgetUsd,
    alertThreshold,
    maxConcurrentRuns,
    // Naming a subject twice makes it admin once.
    admins: [...new Set(input.admins)],
  };
}

/** Repository errors name their own fields (['name']); the API reports them under ['input', …]. */
function underInput(error: unknown): unknown {
  if (error instanceof AppError && error.isUserError) {
    return new AppError(error.code, error.message, {
      ...(error.field ? { field: ['input', ...error.field] } : {}),
      cause: error,
    });
  }
  return error;
}

// ---------------------------------------------------------------- authorization

/**
 * create_tenant is asked of the policy directly rather than through the gate: a platform
 * context has no tenant scope to record a decision in. Evaluation errors deny (fail closed).
 */
async function authorizeCreateTenant(ctx: Context): Promise<void> {
  if (!(await ctx.resources.authorize('create_tenant', ctx.actor))) {
    throw new AppError(
      'POLICY_DENIED',
      `rbac_denied: role(s) ${ctx.actor.roles.join(', ') || 'none'} may not create_tenant`,
    );
  }
}

/** Strings kept as decision evidence are bounded like subjects. */
const clip = (value: string | null | undefined) =>
  value == null ? null : value.slice(0, LIMITS.subjectLength);

// ---------------------------------------------------------------- fields

builder.queryField('members', (t) =>
  t.field({
    type: [MemberRef],
    // A platform context has no tenant: it gets the explanation, not a bare "not allowed".
    authScopes: (_root, _args, ctx) => {
      if (ctx.kind === 'platform') throw platformContextRefusal();
      return { can: 'read' };
    },
    resolve: async (_root, _args, ctx) => (await listMembers(ctx.resources.db, ctx.tenant.id)).map(toMember),
  }),
);

builder.mutationField('createTenant', (t) =>
  t.field({
    type: CreateTenantPayloadRef,
    description: 'platform_admin only.',
    args: { input: t.arg({ type: CreateTenantInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      withUserErrors<{ tenant: TenantRecord | null }>(
        async () => {
          // Authorization first: a caller who may not create tenants learns nothing about inputs.
          await authorizeCreateTenant(ctx);
          const valid = validateCreateTenant(input);
          let created: Awaited<ReturnType<typeof createTenantWithAdmins>>;
          try {
            created = await createTenantWithAdmins(ctx.resources.db, valid);
          } catch (error) {
            throw underInput(error);
          }
          ctx.resources.logger.info(
            {
              requestId: ctx.requestId,
              actor: ctx.actor.subject,
              tenantId: created.tenant.id,
              admins: created.admins.length,
            },
            'tenant created',
          );
          return { tenant: created.tenant };
        },
        { tenant: null },
      ),
  }),
);

builder.mutationField('setMember', (t) =>
  t.field({
    type: SetMemberPayloadRef,
    description: 'Tenant admins, within their own tenant.',
    args: { input: t.arg({ type: SetMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      // Read before anything else: a platform context has no tenant and is refused (FORBIDDEN).
      const tenantId = ctx.tenant.id;
      return withUserErrors<{ member: MemberShape | null }>(
        async () => {
          assertAllowed(
            await decide(ctx, {
              action: 'manage_members',
              subjectId: null,
              subjectKind: 'member',
              extra: { member: { subject: clip(input.subject), role: clip(input.role) } },
            }),
          );
          const subject = input.subject;
          const problems: AppError[] = [];
          const subjectError = subjectProblem(subject);
          if (subjectError) problems.push(invalid(`subject ${subjectError}`, ['input', 'subject']));
          const role = input.role ?? null;
          if (role !== null && !(MEMBER_ROLES as readonly string[]).includes(role)) {
            problems.push(
              invalid(`unknown role "${clip(role)}"; expected one of ${MEMBER_ROLES.join(', ')}`, [
                'input',
                'role',
              ]),
            );
          }
          if (problems.length > 0) throw new AppErrors(problems);

          // keepAnAdmin: demoting or removing the tenant's last admin is INVALID_STATE.
          try {
            if (role === null) {
              const removed = await removeMember(
                ctx.resources.db,
                { tenantId, subject },
                { keepAnAdmin: true },
              );
              if (!removed) {
                throw new AppError('NOT_FOUND', `${subject} is not a member of this tenant`, {
                  field: ['input', 'subject'],
                });
              }
              return { member: null };
            }
            const member = await setMember(
              ctx.resources.db,
              { tenantId, subject, role: role as MemberRoleName },
              { keepAnAdmin: true },
            );
            return { member: toMember(member) };
          } catch (error) {
            throw lastAdminError(error, subject === ctx.actor.subject);
          }
        },
        { member: null },
      );
    },
  }),
);

/** The repository's INVALID_STATE, worded for the caller and pointed at the role they asked for. */
function lastAdminError(error: unknown, self: boolean): unknown {
  if (!(error instanceof AppError) || error.code !== 'INVALID_STATE') return error;
  return new AppError(
    'INVALID_STATE',
    self
      ? 'you are the last admin of this tenant; make another member admin before stepping down'
      : error.message,
    { field: ['input', 'role'], cause: error },
  );
}
