export type { PublishedManifest } from './engine-fixtures.ts';
export { createPendingRun, publishManifest, waitForRun } from './engine-fixtures.ts';
export { publishTestWorkflow } from './graph-fixtures.ts';
export { uniqueName, uniqueTenantId } from './ids.ts';
export { loadCompiledPolicy } from './policy-fixtures.ts';
export type { ServiceEnv } from './service-env.ts';
export { loadServiceEnv, REPO_ROOT } from './service-env.ts';
