// Seeds the demo tenant (Postgres), its users and workflows (Neo4j). Idempotent.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrismaClient, createTenant, type MemberRoleName, setMember } from '@maestro/db';
import { digestOf } from '@maestro/domain';
import { createGraph, saveWorkflowVersion } from '@maestro/graph';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
const TENANT_NAME = 'demo';
/** Initiator, two approvers, an admin and a viewer (Switchboard's demo sign-in). */
const USERS: Record<string, MemberRoleName> = {
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

const { DATABASE_URL, NEO4J_URI, NEO4J_USER = 'neo4j', NEO4J_PASSWORD } = process.env;
if (!DATABASE_URL || !NEO4J_URI || !NEO4J_PASSWORD) {
  console.error('seed: DATABASE_URL, NEO4J_URI and NEO4J_PASSWORD must be set (scripts/services.sh up)');
  process.exit(1);
}

const db = createPrismaClient({ databaseUrl: DATABASE_URL });
const graph = createGraph({ uri: NEO4J_URI, user: NEO4J_USER, password: NEO4J_PASSWORD });
try {
  const existing = await db.tenant.findUnique({ where: { name: TENANT_NAME } });
  const tenantId = existing?.id ?? (await createTenant(db, { name: TENANT_NAME, dailyBudgetUsd: 50 })).id;
  for (const [subject, role] of Object.entries(USERS)) {
    await setMember(db, { tenantId, subject, role });
  }

  const dir = join(ROOT, 'scripts/demo/workflows');
  let created = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const manifest = parse(readFileSync(join(dir, file), 'utf8')) as { name: string; version: string };
    for (const scope of SCOPES) {
      const saved = await saveWorkflowVersion(
        graph,
        { tenantId, ...scope },
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
      if (saved.created) created++;
    }
  }
  const state = join(ROOT, '.maestro');
  writeFileSync(join(state, 'demo-tenant-id'), tenantId);
  writeFileSync(join(state, 'demo-tenant-name'), TENANT_NAME);
  writeFileSync(
    join(state, 'demo-users'),
    Object.entries(USERS)
      .map(([s, r]) => `${s} (${r})`)
      .join(', '),
  );
  console.log(
    `seed: tenant ${TENANT_NAME} (${tenantId}), ${Object.keys(USERS).length} users, ${created} new workflow versions`,
  );
} finally {
  await db.$disconnect();
  await graph.close();
}
