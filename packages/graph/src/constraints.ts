import { CONSTRAINTS, RETIRED } from './generated/constraints.ts';
import type { Graph } from './graph.ts';

/**
 * Constraint and index migrations, applied at start-up and by `npm test`. The statements are
 * generated from graph-schema/graph.yaml; every one is idempotent (IF NOT EXISTS), so applying
 * twice is a no-op. RETIRED (replaced indexes, `DROP … IF EXISTS`) runs after CONSTRAINTS, so a
 * replacement exists before the index it replaces goes.
 */
export { CONSTRAINTS, RETIRED };

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
    for (const statement of RETIRED) {
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
