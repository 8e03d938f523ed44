import { AppError, newId, type Scope } from '@maestro/domain';
import neo4j from 'neo4j-driver';
import { decodeCursor, type Page, pageSize, toPage } from './cursor.ts';
import type { Graph } from './graph.ts';

export interface WorkflowVersionInput {
  name: string;
  version: string;
  /** sha256 of the manifest's canonical JSON, hex. */
  digest: string;
  manifest: unknown;
  publishedBy: string;
  publishedByRoles: string[];
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
         ON CREATE SET v.id = $versionId, v.createdAt = datetime($at), v.digest = $digest, v.manifest = $manifest,
                       v.publishedBy = $publishedBy, v.publishedByRoles = $publishedByRoles,
                       v.publishedAt = datetime($at)
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
        publishedByRoles: input.publishedByRoles,
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

export interface WorkflowRecord {
  id: string;
  name: string;
  latestVersionId: string | null;
  createdAt: string;
}

export interface WorkflowVersionRecord {
  id: string;
  workflowName: string;
  version: string;
  digest: string;
  manifest: unknown;
  publishedBy: string;
  publishedByRoles: string[];
  publishedAt: string;
}

const VERSION_FIELDS = `v { .id, .workflowName, .version, .digest, .manifest, .publishedBy, .publishedByRoles,
  publishedAt: toString(v.publishedAt) }`;

function toVersion(row: Record<string, unknown>): WorkflowVersionRecord {
  return {
    ...(row as unknown as WorkflowVersionRecord),
    manifest: JSON.parse(row.manifest as string),
    publishedByRoles: (row.publishedByRoles as string[] | null) ?? [],
  };
}

/**
 * Workflows of the scope by name, keyset-paginated on the name: the cursor is a range on the
 * name (only when there is one), and the scope-led ORDER BY reads workflow_scope_name in order.
 */
export async function listWorkflows(
  graph: Graph,
  scope: Scope,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Page<WorkflowRecord>> {
  const size = pageSize(first);
  const cursor = decodeCursor('wf', after);
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (w:Workflow {tenantId: $tenantId, environment: $environment, region: $region})
       WHERE ${cursor ? 'w.name > $afterName' : 'w.name IS NOT NULL'}
       RETURN w { .id, .name, .latestVersionId, createdAt: toString(w.createdAt) } AS wf
       ORDER BY w.tenantId, w.environment, w.region, w.name
       LIMIT $limit`,
      { ...scope, ...(cursor ? { afterName: String(cursor.s) } : {}), limit: neo4j.int(size + 1) },
    );
    const rows = result.records.map((r) => r.get('wf') as WorkflowRecord);
    return toPage('wf', rows, size, (w) => ({ s: w.name, id: w.id }));
  });
}

/** Workflows by name or by id within the scope (dataloader batches). */
export async function getWorkflows(
  graph: Graph,
  scope: Scope,
  by: 'name' | 'id',
  keys: readonly string[],
): Promise<WorkflowRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $keys AS key
       MATCH (w:Workflow {tenantId: $tenantId, environment: $environment, region: $region, ${by === 'id' ? 'id' : 'name'}: key})
       RETURN w { .id, .name, .latestVersionId, createdAt: toString(w.createdAt) } AS wf`,
      { ...scope, keys: [...keys] },
    );
    return result.records.map((r) => r.get('wf') as WorkflowRecord);
  });
}

/** Versions by id within the scope (dataloader batch). */
export async function getWorkflowVersions(
  graph: Graph,
  scope: Scope,
  ids: readonly string[],
): Promise<WorkflowVersionRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $ids AS id
       MATCH (v:WorkflowVersion {id: id, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN ${VERSION_FIELDS} AS v`,
      { ...scope, ids: [...ids] },
    );
    return result.records.map((r) => toVersion(r.get('v') as Record<string, unknown>));
  });
}

/** Every version of a workflow, oldest first. */
export async function listVersionsOf(
  graph: Graph,
  scope: Scope,
  workflowName: string,
): Promise<WorkflowVersionRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (v:WorkflowVersion {tenantId: $tenantId, environment: $environment, region: $region,
                                 workflowName: $workflowName})
       RETURN ${VERSION_FIELDS} AS v
       ORDER BY v.publishedAt`,
      { ...scope, workflowName },
    );
    return result.records.map((r) => toVersion(r.get('v') as Record<string, unknown>));
  });
}
