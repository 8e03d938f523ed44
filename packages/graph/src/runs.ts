import type { Scope } from '@maestro/domain';
import type { Graph } from './graph.ts';

/**
 * Runs that hold one of the tenant's concurrency slots (the quota is per tenant, across its
 * environments and regions): started or waiting for approval, not yet finished.
 */
export async function countActiveRuns(graph: Graph, scope: Pick<Scope, 'tenantId'>): Promise<number> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {tenantId: $tenantId})
       WHERE r.status IN ['PENDING', 'RUNNING', 'AWAITING_APPROVAL']
       RETURN count(r) AS n`,
      { tenantId: scope.tenantId },
    );
    return Number(result.records[0]?.get('n') ?? 0);
  });
}
