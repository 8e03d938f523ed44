export type { CreatePrismaClientOptions, PrismaClient } from './client.ts';
export { createPrismaClient } from './client.ts';
export type { ApplyMigrationsOptions, ApplyMigrationsResult, MigrationErrorCode } from './migrate.ts';
export {
  applyMigrations,
  describeTarget,
  MigrationError,
  migrationChecksum,
  PRISMA_ADVISORY_LOCK_KEY,
  PRISMA_MIGRATIONS_TABLE,
} from './migrate.ts';
export type {
  CreateTenantInput,
  CreateTenantWithAdminsInput,
  MemberRecord,
  MemberRoleName,
  MembershipChangeOptions,
  TenantRecord,
  TenantWithAdmins,
} from './tenants.ts';
export {
  createTenant,
  createTenantWithAdmins,
  getMember,
  getTenant,
  listMembers,
  MEMBER_ROLES,
  MemberRole,
  removeMember,
  setMember,
} from './tenants.ts';
