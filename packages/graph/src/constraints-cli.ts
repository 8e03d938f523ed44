// Applies the graph's constraint/index migration: `tsx packages/graph/src/constraints-cli.ts`.
import { applyConstraints } from './constraints.ts';
import { createGraph } from './graph.ts';

const { NEO4J_URI, NEO4J_USER = 'neo4j', NEO4J_PASSWORD } = process.env;
if (!NEO4J_URI || !NEO4J_PASSWORD) {
  console.error('graph: NEO4J_URI and NEO4J_PASSWORD must be set (scripts/services.sh up writes them)');
  process.exit(1);
}
const graph = createGraph({ uri: NEO4J_URI, user: NEO4J_USER, password: NEO4J_PASSWORD });
try {
  const report = await applyConstraints(graph);
  console.log(
    `graph: ${report.applied} constraint/index statements applied (${report.existing.length} present)`,
  );
} catch (error) {
  console.error(`graph: could not apply constraints at ${NEO4J_URI}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await graph.close();
}
