import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AppError } from '@maestro/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from './client.ts';
import { applyMigrations } from './migrate.ts';
import {
  createTenant,
  createTenantWithAdmins,
  getTenant,
  listMembers,
  removeMember,
  setMember,
} from './tenants.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));

let db: PrismaClient;
const createdTenants: string[] = [];

beforeAll(async () => {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL must point at the test Postgres');
  // Idempotent and lock-protected, so it is safe next to other test files doing the same.
  await applyMigrations({ databaseUrl, migrationsDir: MIGRATIONS_DIR });
  db = createPrismaClient({ databaseUrl, poolSize: 2 });
});

afterAll(async () => {
  if (!db) return;
  await db.auditEvent.deleteMany({ where: { tenantId: { in: createdTenants } } });
  await db.tenant.deleteMany({ where: { id: { in: createdTenants } } });
  await db.$disconnect();
});

const uniqueName = (label: string) => `${label}-${randomUUID()}`;

async function newTenant(label: string, input: Omit<Parameters<typeof createTenant>[1], 'name'> = {}) {
  const tenant = await createTenant(db, { name: uniqueName(label), ...input });
  createdTenants.push(tenant.id);
  return tenant;
}

describe('tenants via the generated client and @prisma/adapter-pg', () => {
  it('creates a tenant with the column defaults and reads it back', async () => {
    const tenant = await newTenant('defaults');
    expect(tenant).toMatchObject({
      dailyBudgetUsd: '100.0000',
      alertThreshold: '0.8000',
      maxConcurrentRuns: 25,
    });
    expect(tenant.id).toMatch(/^tnt_[0-9a-f-]{36}$/);
    expect(tenant.createdAt).toBeInstanceOf(Date);
    expect(await getTenant(db, tenant.id)).toEqual(tenant);
  });

  it('keeps money exact', async () => {
    const tenant = await newTenant('money', {
      dailyBudgetUsd: '12345678.1234',
      alertThreshold: 0.95,
      maxConcurrentRuns: 3,
    });
    expect(tenant).toMatchObject({
      dailyBudgetUsd: '12345678.1234',
      alertThreshold: '0.9500',
      maxConcurrentRuns: 3,
    });
  });

  it('round-trips members: add, change role, list', async () => {
    const tenant = await newTenant('members');
    await setMember(db, { tenantId: tenant.id, subject: 'user:bob', role: 'viewer' });
    await setMember(db, { tenantId: tenant.id, subject: 'user:alice', role: 'operator' });
    const promoted = await setMember(db, { tenantId: tenant.id, subject: 'user:bob', role: 'admin' });
    expect(promoted).toMatchObject({ tenantId: tenant.id, subject: 'user:bob', role: 'admin' });

    const members = await listMembers(db, tenant.id);
    expect(members.map((m) => [m.subject, m.role])).toEqual([
      ['user:alice', 'operator'],
      ['user:bob', 'admin'],
    ]);
    // Another tenant's members stay separate.
    const other = await newTenant('other');
    expect(await listMembers(db, other.id)).toEqual([]);
  });

  it('maps constraint violations to domain errors', async () => {
    const tenant = await newTenant('conflict');
    await expect(createTenant(db, { name: tenant.name })).rejects.toSatisfy(
      (e: unknown) => e instanceof AppError && e.code === 'CONFLICT',
    );
    await expect(
      setMember(db, { tenantId: randomUUID(), subject: 'user:x', role: 'viewer' }),
    ).rejects.toSatisfy((e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
    await expect(createTenant(db, { name: '  ' })).rejects.toSatisfy(
      (e: unknown) => e instanceof AppError && e.code === 'VALIDATION',
    );
    expect(await getTenant(db, randomUUID())).toBeNull();
  });

  it('stores hash-chained audit events with bigint ids and JSON payloads', async () => {
    const tenant = await newTenant('audit');
    const first = await db.auditEvent.create({
      data: {
        tenantId: tenant.id,
        seq: 1,
        type: 'tenant.created',
        actor: 'user:alice',
        payload: { name: tenant.name },
        prevHash: '0'.repeat(64),
        hash: 'a'.repeat(64),
      },
    });
    expect(typeof first.id).toBe('bigint');
    expect(first.payload).toEqual({ name: tenant.name });
    expect(first.subjectId).toBeNull();
    // seq is unique per tenant.
    await expect(
      db.auditEvent.create({
        data: {
          tenantId: tenant.id,
          seq: 1,
          type: 'x',
          actor: 'y',
          payload: {},
          prevHash: 'a'.repeat(64),
          hash: 'b'.repeat(64),
        },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    // The tenant cannot be deleted while its audit trail exists (ON DELETE RESTRICT).
    await expect(db.tenant.delete({ where: { id: tenant.id } })).rejects.toMatchObject({ code: 'P2003' });
  });
});

describe('createTenantWithAdmins and guarded membership changes', () => {
  it('creates the tenant and its admins together', async () => {
    const name = uniqueName('with-admins');
    const { tenant, admins } = await createTenantWithAdmins(db, {
      name: `  ${name} `,
      dailyBudgetUsd: 25,
      maxConcurrentRuns: 5,
      admins: ['user:zoe', 'user:abe', 'user:zoe'],
    });
    createdTenants.push(tenant.id);
    expect(tenant).toMatchObject({ name, dailyBudgetUsd: '25.0000', alertThreshold: '0.8000' });
    expect(admins.map((m) => [m.subject, m.role])).toEqual([
      ['user:abe', 'admin'],
      ['user:zoe', 'admin'],
    ]);
    expect((await listMembers(db, tenant.id)).map((m) => m.subject)).toEqual(['user:abe', 'user:zoe']);
  });

  it('rolls the whole transaction back when an admin cannot be written', async () => {
    const name = uniqueName('rollback');
    // Postgres refuses NUL in text, so the member insert fails after the tenant row was written.
    await expect(
      createTenantWithAdmins(db, { name, admins: ['user:ok', 'user:\u0000bad'] }),
    ).rejects.toThrow();
    expect(await db.tenant.findUnique({ where: { name } })).toBeNull();
    expect(await db.member.count({ where: { subject: 'user:ok', tenant: { name } } })).toBe(0);
    // The name is free again: nothing half-written holds it.
    const { tenant } = await createTenantWithAdmins(db, { name, admins: ['user:ok'] });
    createdTenants.push(tenant.id);
  });

  it('reports a duplicate name as CONFLICT and writes no member', async () => {
    const existing = await newTenant('dup');
    await expect(
      createTenantWithAdmins(db, { name: existing.name, admins: ['user:intruder'] }),
    ).rejects.toSatisfy(
      (e: unknown) => e instanceof AppError && e.code === 'CONFLICT' && e.field?.join('.') === 'name',
    );
    expect(await listMembers(db, existing.id)).toEqual([]);
    await expect(createTenantWithAdmins(db, { name: uniqueName('no-admins'), admins: [] })).rejects.toSatisfy(
      (e: unknown) => e instanceof AppError && e.code === 'VALIDATION',
    );
  });

  it('keeps at least one admin when asked to, and removes members', async () => {
    const { tenant } = await createTenantWithAdmins(db, { name: uniqueName('guard'), admins: ['user:root'] });
    createdTenants.push(tenant.id);
    const guard = { keepAnAdmin: true };
    const lastAdmin = (e: unknown) => e instanceof AppError && e.code === 'INVALID_STATE';
    await expect(
      setMember(db, { tenantId: tenant.id, subject: 'user:root', role: 'viewer' }, guard),
    ).rejects.toSatisfy(lastAdmin);
    await expect(removeMember(db, { tenantId: tenant.id, subject: 'user:root' }, guard)).rejects.toSatisfy(
      lastAdmin,
    );
    await setMember(db, { tenantId: tenant.id, subject: 'user:second', role: 'admin' }, guard);
    // Two admins demoting each other at once: the tenant lock lets exactly one through.
    const results = await Promise.allSettled([
      setMember(db, { tenantId: tenant.id, subject: 'user:root', role: 'operator' }, guard),
      removeMember(db, { tenantId: tenant.id, subject: 'user:second' }, guard),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const admins = (await listMembers(db, tenant.id)).filter((m) => m.role === 'admin');
    expect(admins).toHaveLength(1);

    expect(await removeMember(db, { tenantId: tenant.id, subject: 'user:nobody' })).toBeNull();
    await setMember(db, { tenantId: tenant.id, subject: 'user:temp', role: 'viewer' });
    expect(await removeMember(db, { tenantId: tenant.id, subject: 'user:temp' })).toMatchObject({
      subject: 'user:temp',
      role: 'viewer',
    });
    expect((await listMembers(db, tenant.id)).map((m) => m.subject)).not.toContain('user:temp');
    await expect(
      setMember(db, { tenantId: 'tnt_missing', subject: 'user:x', role: 'viewer' }, guard),
    ).rejects.toSatisfy((e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
  });
});
