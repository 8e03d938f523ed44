import { digestOf, type Scope } from '@maestro/domain';
import { type Graph, type SavedWorkflowVersion, saveWorkflowVersion } from '@maestro/graph';

/**
 * Publishes a small workflow straight into a scope's graph (no API, no policy), for tests that
 * need a workflow to start, schedule or trace. Steps default to one `core.echo`.
 */
export function publishTestWorkflow(
  graph: Graph,
  scope: Scope,
  name = 'build',
  steps: Array<{ id: string; uses?: string; needs?: string[] }> = [{ id: 'a', uses: 'core.echo' }],
): Promise<SavedWorkflowVersion> {
  const manifest = { name, version: '1.0.0', steps: steps.map((s) => ({ uses: 'core.echo', ...s })) };
  return saveWorkflowVersion(graph, scope, {
    name,
    version: manifest.version,
    digest: digestOf(manifest),
    manifest,
    publishedBy: 'ken',
    publishedByRoles: ['composer'],
    publishedAt: new Date(),
  });
}
