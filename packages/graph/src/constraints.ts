import type { Graph } from './graph.ts';

/**
 * Constraint and index migrations, applied at start-up. Every statement is idempotent
 * (IF NOT EXISTS), so applying twice is a no-op. Names are stable so a changed definition
 * is a new name, never a silent redefinition.
 *
 * The graph-schema generator (graph-schema/) will own this list; until then it is kept here.
 */
export const CONSTRAINTS: readonly string[] = [
  'CREATE CONSTRAINT tenant_id IF NOT EXISTS FOR (n:Tenant) REQUIRE n.id IS UNIQUE',
  'CREATE CONSTRAINT user_scope_subject IF NOT EXISTS FOR (n:User) REQUIRE (n.tenantId, n.subject) IS UNIQUE',
  'CREATE CONSTRAINT workflow_id IF NOT EXISTS FOR (n:Workflow) REQUIRE n.id IS UNIQUE',
  'CREATE CONSTRAINT workflow_scope_name IF NOT EXISTS FOR (n:Workflow) REQUIRE (n.tenantId, n.environment, n.region, n.name) IS UNIQUE',
  'CREATE CONSTRAINT workflow_version_id IF NOT EXISTS FOR (n:WorkflowVersion) REQUIRE n.id IS UNIQUE',
  'CREATE CONSTRAINT workflow_version_scope IF NOT EXISTS FOR (n:WorkflowVersion) REQUIRE (n.tenantId, n.environment, n.region, n.workflowName, n.version) IS UNIQUE',
  'CREATE CONSTRAINT run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.id IS UNIQUE',
  'CREATE INDEX run_scope_created IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.environment, n.region, n.createdAt)',
  'CREATE INDEX run_scope_status IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.environment, n.region, n.status)',
];

export interface ConstraintReport {
  applied: number;
  existing: string[];
}

export async function applyConstraints(graph: Graph): Promise<ConstraintReport> {
  const s = graph.driver.session({ database: graph.database });
  try {
    for (const statement of CONSTRAINTS) {
      await s.run(statement);
    }
    const existing = new Set<string>();
    for (const show of ['SHOW CONSTRAINTS YIELD name', 'SHOW INDEXES YIELD name']) {
      const shown = await s.run(show);
      for (const r of shown.records) existing.add(r.get('name') as string);
    }
    return { applied: CONSTRAINTS.length, existing: [...existing] };
  } finally {
    await s.close();
  }
}
