/**
 * Minimal tenancy repository for the walking skeleton. Money columns are returned as
 * fixed-scale decimal strings (never JS numbers) so budgets stay exact.
 */
import { AppError, newId } from '@maestro/domain';
import type { PrismaClient } from './client.ts';
import type { Member, Tenant } from './generated/prisma/client.ts';
import { Prisma } from './generated/prisma/client.ts';
import { MemberRole } from './generated/prisma/enums.ts';

export { MemberRole };
export type MemberRoleName = (typeof MemberRole)[keyof typeof MemberRole];
export const MEMBER_ROLES = Object.values(MemberRole) as readonly MemberRoleName[];

export interface TenantRecord {
  id: string;
  name: string;
  /** Decimal(12,4) as a string with 4 decimals, e.g. "100.0000". */
  dailyBudgetUsd: string;
  /** Decimal(5,4) fraction of the budget at which to alert, e.g. "0.8000". */
  alertThreshold: string;
  maxConcurrentRuns: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface MemberRecord {
  tenantId: string;
  subject: string;
  role: MemberRoleName;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateTenantInput {
  name: string;
  /** Decimal string or number; defaults to the column default (100). */
  dailyBudgetUsd?: string | number;
  /** Fraction in [0, 1]; defaults to 0.8. */
  alertThreshold?: string | number;
  maxConcurrentRuns?: number;
}

function toTenantRecord(row: Tenant): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    dailyBudgetUsd: row.dailyBudgetUsd.toFixed(4),
    alertThreshold: row.alertThreshold.toFixed(4),
    maxConcurrentRuns: row.maxConcurrentRuns,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toMemberRecord(row: Member): MemberRecord {
  return {
    tenantId: row.tenantId,
    subject: row.subject,
    role: row.role,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function knownCode(error: unknown): string | undefined {
  return error instanceof Prisma.PrismaClientKnownRequestError ? error.code : undefined;
}

/** Column values of a new tenant; omitted settings take the column defaults. */
function tenantData(name: string, input: CreateTenantInput) {
  return {
    id: newId('Tenant'),
    name,
    ...(input.dailyBudgetUsd === undefined
      ? {}
      : { dailyBudgetUsd: new Prisma.Decimal(input.dailyBudgetUsd) }),
    ...(input.alertThreshold === undefined
      ? {}
      : { alertThreshold: new Prisma.Decimal(input.alertThreshold) }),
    ...(input.maxConcurrentRuns === undefined ? {} : { maxConcurrentRuns: input.maxConcurrentRuns }),
  };
}

function trimmedName(input: CreateTenantInput): string {
  const name = input.name.trim();
  if (name === '') throw new AppError('VALIDATION', 'tenant name must not be empty', { field: ['name'] });
  return name;
}

/** The tenants table's only unique key besides the id is the name. */
function nameConflict(name: string, error: unknown): AppError | null {
  return knownCode(error) === 'P2002'
    ? new AppError('CONFLICT', `a tenant named "${name}" already exists`, { field: ['name'], cause: error })
    : null;
}

export async function createTenant(db: PrismaClient, input: CreateTenantInput): Promise<TenantRecord> {
  const name = trimmedName(input);
  try {
    return toTenantRecord(await db.tenant.create({ data: tenantData(name, input) }));
  } catch (error) {
    throw nameConflict(name, error) ?? error;
  }
}

export interface CreateTenantWithAdminsInput extends CreateTenantInput {
  /** Subjects made admin members of the new tenant; at least one (duplicates are ignored). */
  admins: readonly string[];
}

export interface TenantWithAdmins {
  tenant: TenantRecord;
  /** The admin members, ordered by subject. */
  admins: MemberRecord[];
}

/**
 * Creates a tenant and its admin members in one transaction: if any write fails (a duplicate
 * name is CONFLICT on ['name']), nothing is left behind. Range checks of the settings are the
 * caller's; the columns' precision and the database constraints are the last line.
 */
export async function createTenantWithAdmins(
  db: PrismaClient,
  input: CreateTenantWithAdminsInput,
): Promise<TenantWithAdmins> {
  const name = trimmedName(input);
  const admins = [...new Set(input.admins)].sort();
  if (admins.length === 0) {
    throw new AppError('VALIDATION', 'a tenant needs at least one admin', { field: ['admins'] });
  }
  return db.$transaction(async (tx) => {
    let tenant: Tenant;
    try {
      tenant = await tx.tenant.create({ data: tenantData(name, input) });
    } catch (error) {
      throw nameConflict(name, error) ?? error;
    }
    const rows = await tx.member.createManyAndReturn({
      data: admins.map((subject) => ({ tenantId: tenant.id, subject, role: MemberRole.admin })),
    });
    return {
      tenant: toTenantRecord(tenant),
      admins: rows.map(toMemberRecord).sort((a, b) => (a.subject < b.subject ? -1 : 1)),
    };
  });
}

export async function getTenant(db: PrismaClient, tenantId: string): Promise<TenantRecord | null> {
  const row = await db.tenant.findUnique({ where: { id: tenantId } });
  return row === null ? null : toTenantRecord(row);
}

export interface MembershipChangeOptions {
  /**
   * Refuse (INVALID_STATE) a change that would leave the tenant without an admin. The check and
   * the write run in one transaction that holds the tenant row lock, so two admins demoting each
   * other at the same moment cannot both pass it.
   */
  keepAnAdmin?: boolean;
}

type Tx = Prisma.TransactionClient;

/** Serialises guarded membership changes of one tenant; NOT_FOUND when it does not exist. */
async function lockTenant(tx: Tx, tenantId: string): Promise<void> {
  // NO KEY UPDATE: conflicts with itself, not with the KEY SHARE locks of member foreign keys.
  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id FROM tenants WHERE id = ${tenantId} FOR NO KEY UPDATE`;
  if (rows.length === 0) {
    throw new AppError('NOT_FOUND', `tenant ${tenantId} does not exist`, { field: ['tenantId'] });
  }
}

/** INVALID_STATE when `subject` is an admin and the only one; call with the tenant locked. */
async function assertNotLastAdmin(tx: Tx, tenantId: string, subject: string): Promise<void> {
  const current = await tx.member.findUnique({ where: { tenantId_subject: { tenantId, subject } } });
  if (current?.role !== MemberRole.admin) return;
  const admins = await tx.member.count({ where: { tenantId, role: MemberRole.admin } });
  if (admins <= 1) {
    throw new AppError(
      'INVALID_STATE',
      `${subject} is the last admin of the tenant; make another member admin first`,
      { field: ['subject'] },
    );
  }
}

/** Adds the subject to the tenant, or changes its role if it is already a member. */
export async function setMember(
  db: PrismaClient,
  input: { tenantId: string; subject: string; role: MemberRoleName },
  options: MembershipChangeOptions = {},
): Promise<MemberRecord> {
  if (!MEMBER_ROLES.includes(input.role)) {
    throw new AppError('VALIDATION', `unknown role "${String(input.role)}"`, { field: ['role'] });
  }
  const upsert = (client: Tx | PrismaClient) =>
    client.member.upsert({
      where: { tenantId_subject: { tenantId: input.tenantId, subject: input.subject } },
      create: { tenantId: input.tenantId, subject: input.subject, role: input.role },
      update: { role: input.role },
    });
  try {
    const row = options.keepAnAdmin
      ? await db.$transaction(async (tx) => {
          await lockTenant(tx, input.tenantId);
          if (input.role !== MemberRole.admin) await assertNotLastAdmin(tx, input.tenantId, input.subject);
          return upsert(tx);
        })
      : await upsert(db);
    return toMemberRecord(row);
  } catch (error) {
    if (knownCode(error) === 'P2003') {
      throw new AppError('NOT_FOUND', `tenant ${input.tenantId} does not exist`, {
        field: ['tenantId'],
        cause: error,
      });
    }
    throw error;
  }
}

/** Removes the subject from the tenant; returns the removed membership, or null if there was none. */
export async function removeMember(
  db: PrismaClient,
  input: { tenantId: string; subject: string },
  options: MembershipChangeOptions = {},
): Promise<MemberRecord | null> {
  return db.$transaction(async (tx) => {
    if (options.keepAnAdmin) {
      await lockTenant(tx, input.tenantId);
      await assertNotLastAdmin(tx, input.tenantId, input.subject);
    }
    const row = await tx.member.findUnique({
      where: { tenantId_subject: { tenantId: input.tenantId, subject: input.subject } },
    });
    if (!row) return null;
    // deleteMany: a concurrent removal leaves nothing to delete, which is not an error.
    const { count } = await tx.member.deleteMany({ where: { id: row.id } });
    return count === 1 ? toMemberRecord(row) : null;
  });
}

/** Members of a tenant, ordered by subject. */
export async function listMembers(db: PrismaClient, tenantId: string): Promise<MemberRecord[]> {
  const rows = await db.member.findMany({ where: { tenantId }, orderBy: { subject: 'asc' } });
  return rows.map(toMemberRecord);
}

/** One subject's membership of a tenant, or null. */
export async function getMember(
  db: PrismaClient,
  tenantId: string,
  subject: string,
): Promise<MemberRecord | null> {
  const row = await db.member.findUnique({ where: { tenantId_subject: { tenantId, subject } } });
  return row === null ? null : toMemberRecord(row);
}
