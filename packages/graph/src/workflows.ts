import { AppError, newId, type Scope } from '@maestro/domain';
import type { Graph } from './graph.ts';

export interface WorkflowVersionInput {
  name: string;
  version: string;
  /** sha256 of the manifest's canonical JSON, hex. */
  digest: string;
  manifest: unknown;
  publishedBy: string;
  publishedAt: Date;
}

export interface SavedWorkflowVersion {
  workflowId: string;
  versionId: string;
  /** False when the same name, version and digest were already stored (idempotent). */
  created: boolean;
}

/**
 * Stores an immutable WorkflowVersion under its Workflow, in one transaction. The same
 * name + version + digest is a no-op; the same name + version with another digest is CONFLICT.
 */
export async function saveWorkflowVersion(
  graph: Graph,
  scope: Scope,
  input: WorkflowVersionInput,
): Promise<SavedWorkflowVersion> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      // MERGE on the unique (scope, name, version) key: concurrent publishers of the same
      // version serialise on the constraint lock instead of racing.
      `MERGE (w:Workflow {tenantId: $tenantId, environment: $environment, region: $region, name: $name})
         ON CREATE SET w.id = $workflowId, w.createdAt = datetime($at)
       MERGE (v:WorkflowVersion {tenantId: $tenantId, environment: $environment, region: $region,
                                 workflowName: $name, version: $version})
         ON CREATE SET v.id = $versionId, v.digest = $digest, v.manifest = $manifest,
                       v.publishedBy = $publishedBy, v.publishedAt = datetime($at)
       WITH w, v, v.id = $versionId AS created
       FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
         MERGE (v)-[:VERSION_OF]->(w)
         SET w.latestVersionId = v.id, w.updatedAt = datetime($at))
       RETURN w.id AS workflowId, v.id AS versionId, v.digest AS digest, created`,
      {
        ...scope,
        name: input.name,
        version: input.version,
        digest: input.digest,
        manifest: JSON.stringify(input.manifest),
        publishedBy: input.publishedBy,
        at: input.publishedAt.toISOString(),
        workflowId: newId('Workflow'),
        versionId: newId('WorkflowVersion'),
      },
    );
    const row = result.records[0];
    if (!row) throw new Error('saveWorkflowVersion returned no row');
    if (row.get('digest') !== input.digest) {
      throw new AppError(
        'CONFLICT',
        `${input.name}@${input.version} is already published with a different manifest; publish a new version`,
        { field: ['version'] },
      );
    }
    return {
      workflowId: row.get('workflowId') as string,
      versionId: row.get('versionId') as string,
      created: row.get('created') as boolean,
    };
  });
}
