// Seeds the demo tenants (Postgres): the four tenants of the TENANT_BUDGETS table in
// ../shared/seeds/000_*.txt, each with one demo user per role (`<tenant>-admin`, …), plus the
// demo tenant's named users and workflows (Neo4j). Idempotent: a re-run writes nothing.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createPrismaClient,
  createTenantWithAdmins,
  getMember,
  getTenant,
  MEMBER_ROLES,
  type MemberRoleName,
  type PrismaClient,
  setMember,
} from '@maestro/db';
import { digestOf } from '@maestro/domain';
import { createGraph, saveWorkflowVersion } from '@maestro/graph';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
const DEMO_TENANT = 'demo';

interface SeedTenant {
  name: string;
  dailyBudgetUsd: number;
  alertThreshold: number;
  maxConcurrentRuns: number;
}

/**
 * TENANT_BUDGETS (USD cap and alert threshold from the table; the token budgets are the LLM
 * proxy's, not ours). Concurrency follows the budget: the canary gets less, the production
 * profile (4x the budget) gets more.
 */
const TENANTS: SeedTenant[] = [
  { name: 'test', dailyBudgetUsd: 25, alertThreshold: 0.8, maxConcurrentRuns: 10 },
  { name: DEMO_TENANT, dailyBudgetUsd: 25, alertThreshold: 0.8, maxConcurrentRuns: 25 },
  { name: 'maestro-internal', dailyBudgetUsd: 25, alertThreshold: 0.8, maxConcurrentRuns: 25 },
  { name: 'production-sample', dailyBudgetUsd: 100, alertThreshold: 0.85, maxConcurrentRuns: 100 },
];

/** The demo tenant's named users: initiator, two approvers, an admin, a composer and a viewer. */
const DEMO_USERS: Record<string, MemberRoleName> = {
  ada: 'operator',
  grace: 'operator',
  linus: 'operator',
  margaret: 'admin',
  ken: 'composer',
  vera: 'viewer',
};
const SCOPES = [
  { environment: 'dev', region: 'EU' },
  { environment: 'prod', region: 'EU' },
];

/** `<tenant>-<role>` for every role, plus the demo tenant's named users. */
function usersOf(tenant: string): Record<string, MemberRoleName> {
  const roleUsers = Object.fromEntries(MEMBER_ROLES.map((role) => [`${tenant}-${role}`, role]));
  return tenant === DEMO_TENANT ? { ...DEMO_USERS, ...roleUsers } : roleUsers;
}

const { DATABASE_URL, NEO4J_URI, NEO4J_USER = 'neo4j', NEO4J_PASSWORD } = process.env;
if (!DATABASE_URL || !NEO4J_URI || !NEO4J_PASSWORD) {
  console.error('seed: DATABASE_URL, NEO4J_URI and NEO4J_PASSWORD must be set (scripts/services.sh up)');
  process.exit(1);
}

const counts = { created: 0, updated: 0, members: 0, memberChanges: 0, workflowVersions: 0 };

/** Creates the tenant (with its admin, in one transaction) or brings its settings in line. */
async function ensureTenant(db: PrismaClient, seed: SeedTenant): Promise<string> {
  const settings = {
    dailyBudgetUsd: seed.dailyBudgetUsd,
    alertThreshold: seed.alertThreshold,
    maxConcurrentRuns: seed.maxConcurrentRuns,
  };
  const existing = await db.tenant.findUnique({ where: { name: seed.name }, select: { id: true } });
  if (!existing) {
    const { tenant } = await createTenantWithAdmins(db, {
      name: seed.name,
      ...settings,
      admins: [`${seed.name}-admin`],
    });
    counts.created++;
    return tenant.id;
  }
  const current = await getTenant(db, existing.id);
  if (
    current?.dailyBudgetUsd !== seed.dailyBudgetUsd.toFixed(4) ||
    current.alertThreshold !== seed.alertThreshold.toFixed(4) ||
    current.maxConcurrentRuns !== seed.maxConcurrentRuns
  ) {
    await db.tenant.update({ where: { id: existing.id }, data: settings });
    counts.updated++;
  }
  return existing.id;
}

/** Adds missing members and fixes roles; members already as wanted are not written. */
async function ensureMembers(db: PrismaClient, tenantId: string, users: Record<string, MemberRoleName>) {
  for (const [subject, role] of Object.entries(users)) {
    counts.members++;
    if ((await getMember(db, tenantId, subject))?.role === role) continue;
    await setMember(db, { tenantId, subject, role });
    counts.memberChanges++;
  }
}

const db = createPrismaClient({ databaseUrl: DATABASE_URL });
const graph = createGraph({ uri: NEO4J_URI, user: NEO4J_USER, password: NEO4J_PASSWORD });
try {
  const ids = new Map<string, string>();
  for (const seed of TENANTS) {
    const tenantId = await ensureTenant(db, seed);
    await ensureMembers(db, tenantId, usersOf(seed.name));
    ids.set(seed.name, tenantId);
  }

  const demoId = ids.get(DEMO_TENANT);
  if (!demoId) throw new Error('seed: the demo tenant is missing from TENANTS');
  const dir = join(ROOT, 'scripts/demo/workflows');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const manifest = parse(readFileSync(join(dir, file), 'utf8')) as { name: string; version: string };
    for (const scope of SCOPES) {
      const saved = await saveWorkflowVersion(
        graph,
        { tenantId: demoId, ...scope },
        {
          name: manifest.name,
          version: manifest.version,
          digest: digestOf(manifest),
          manifest,
          publishedBy: 'ken',
          publishedByRoles: ['composer'],
          publishedAt: new Date(),
        },
      );
      if (saved.created) counts.workflowVersions++;
    }
  }

  const state = join(ROOT, '.maestro');
  writeFileSync(join(state, 'demo-tenant-id'), demoId);
  writeFileSync(join(state, 'demo-tenant-name'), DEMO_TENANT);
  // npm start's worker serves the seeded tenants (not the throwaway tenants of test runs).
  writeFileSync(join(state, 'seeded-tenant-ids'), [...ids.values()].join(','));
  writeFileSync(
    join(state, 'demo-users'),
    Object.entries(usersOf(DEMO_TENANT))
      .map(([s, r]) => `${s} (${r})`)
      .join(', '),
  );
  console.log(
    `seed: ${TENANTS.length} tenants (${TENANTS.map((t) => t.name).join(', ')}; ${counts.created} created, ` +
      `${counts.updated} updated), ${counts.members} members (${counts.memberChanges} written), ` +
      `${counts.workflowVersions} new workflow versions; demo tenant ${demoId}`,
  );
} finally {
  await db.$disconnect();
  await graph.close();
}
