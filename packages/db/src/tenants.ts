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

export async function createTenant(db: PrismaClient, input: CreateTenantInput): Promise<TenantRecord> {
  const name = input.name.trim();
  if (name === '') throw new AppError('VALIDATION', 'tenant name must not be empty', { field: ['name'] });
  try {
    const row = await db.tenant.create({
      data: {
        id: newId('Tenant'),
        name,
        ...(input.dailyBudgetUsd === undefined
          ? {}
          : { dailyBudgetUsd: new Prisma.Decimal(input.dailyBudgetUsd) }),
        ...(input.alertThreshold === undefined
          ? {}
          : { alertThreshold: new Prisma.Decimal(input.alertThreshold) }),
        ...(input.maxConcurrentRuns === undefined ? {} : { maxConcurrentRuns: input.maxConcurrentRuns }),
      },
    });
    return toTenantRecord(row);
  } catch (error) {
    if (knownCode(error) === 'P2002') {
      throw new AppError('CONFLICT', `a tenant named "${name}" already exists`, {
        field: ['name'],
        cause: error,
      });
    }
    throw error;
  }
}

export async function getTenant(db: PrismaClient, tenantId: string): Promise<TenantRecord | null> {
  const row = await db.tenant.findUnique({ where: { id: tenantId } });
  return row === null ? null : toTenantRecord(row);
}

/** Adds the subject to the tenant, or changes its role if it is already a member. */
export async function setMember(
  db: PrismaClient,
  input: { tenantId: string; subject: string; role: MemberRoleName },
): Promise<MemberRecord> {
  if (!MEMBER_ROLES.includes(input.role)) {
    throw new AppError('VALIDATION', `unknown role "${String(input.role)}"`, { field: ['role'] });
  }
  try {
    const row = await db.member.upsert({
      where: { tenantId_subject: { tenantId: input.tenantId, subject: input.subject } },
      create: { tenantId: input.tenantId, subject: input.subject, role: input.role },
      update: { role: input.role },
    });
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
