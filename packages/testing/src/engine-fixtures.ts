import {
  AppError,
  initialTasks,
  type Manifest,
  newId,
  type ParseManifestOptions,
  parseManifest,
  type Scope,
  validateParams,
} from '@maestro/domain';
import { createRun, type Graph, getRun, type RunRecord, saveWorkflowVersion } from '@maestro/graph';

export interface PublishedManifest {
  manifest: Manifest;
  digest: string;
  versionId: string;
}

/** Parses a manifest (YAML/JSON) and stores its version straight into the graph (no API, no policy). */
export async function publishManifest(
  graph: Graph,
  scope: Scope,
  source: string,
  options: ParseManifestOptions = {},
): Promise<PublishedManifest> {
  const parsed = parseManifest(source, options);
  if (!parsed.ok) throw new AppError('VALIDATION', parsed.errors.map((e) => e.message).join('; '));
  const saved = await saveWorkflowVersion(graph, scope, {
    name: parsed.manifest.name,
    version: parsed.manifest.version,
    digest: parsed.digest,
    manifest: parsed.manifest,
    publishedBy: 'ken',
    publishedByRoles: ['composer'],
    publishedAt: new Date(),
  });
  return { manifest: parsed.manifest, digest: parsed.digest, versionId: saved.versionId };
}

/**
 * Creates a PENDING run of a published version with its tasks, as `startRun` does after an
 * allowed policy decision; the caller wakes the engine (`run.advance`).
 */
export async function createPendingRun(
  graph: Graph,
  scope: Scope,
  wf: PublishedManifest,
  params: Record<string, unknown> = {},
  initiatedBy = 'ada',
): Promise<string> {
  const checked = validateParams(wf.manifest, params);
  if (!checked.ok) throw new AppError('VALIDATION', checked.errors.map((e) => e.message).join('; '));
  const runId = newId('Run');
  await createRun(graph, scope, {
    id: runId,
    workflowVersionId: wf.versionId,
    status: 'PENDING',
    params: checked.values,
    initiatedBy,
    initiatorRoles: ['operator'],
    idempotencyKey: null,
    estimatedCostUSD: null,
    createdAt: new Date(),
    tasks: initialTasks(wf.manifest, wf.digest, checked.values, () => newId('Task')),
  });
  return runId;
}

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED'];

/** Polls a run until `until` holds (default: finished); throws after `timeoutMs`. */
export async function waitForRun(
  graph: Graph,
  scope: Scope,
  runId: string,
  options: { timeoutMs?: number; pollMs?: number; until?: (run: RunRecord) => boolean } = {},
): Promise<RunRecord> {
  const until = options.until ?? ((r: RunRecord) => TERMINAL.includes(r.status));
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(graph, scope, runId);
    if (run && until(run)) return run;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} still ${run?.status ?? 'missing'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
  }
}
