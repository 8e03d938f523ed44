import { BUILTIN_STEP_TYPES, type Scope } from '@maestro/domain';
import {
  createGraph,
  getTasksForRuns,
  listTimeline,
  type RunRecord,
  type TaskRecord,
  type TimelineEventRecord,
} from '@maestro/graph';
import type { PolicyEngine } from '@maestro/policy';
import { createProducer } from '@maestro/queue';
import {
  createPendingRun,
  loadCompiledPolicy,
  loadServiceEnv,
  type PublishedManifest,
  publishManifest,
  uniqueName,
  uniqueTenantId,
  waitForRun,
} from '@maestro/testing';
import { pino } from 'pino';
import { type EngineResources, type RunningWorkers, startWorkers } from '../workers.ts';

export interface TestEngine {
  scope: Scope;
  graph: ReturnType<typeof createGraph>;
  policy: PolicyEngine;
  workers: RunningWorkers;
  queuePrefix: string;
  /** A producer on the engine's queues. */
  producer: ReturnType<typeof createProducer>;
  /** Another tenant this engine's reconciler also covers (fairness tests). */
  otherScope: Scope;
  /** Publishes the manifest (YAML/JSON) once per name+version and starts a run of it. */
  start(
    source: string,
    params?: Record<string, unknown>,
    options?: { initiatedBy?: string; scope?: Scope },
  ): Promise<string>;
  waitForRun(
    runId: string,
    options?: { timeoutMs?: number; until?: (run: RunRecord) => boolean; scope?: Scope },
  ): Promise<RunRecord>;
  tasks(runId: string, scope?: Scope): Promise<TaskRecord[]>;
  timeline(runId: string, scope?: Scope): Promise<TimelineEventRecord[]>;
  /** Starts another worker process-alike on the same queues (e.g. after stopping the first). */
  restart(overrides?: Partial<EngineResources>): Promise<void>;
  close(): Promise<void>;
}

/**
 * The engine on the real Redis, Neo4j and compiled policy bundle, on its own queue prefix and
 * its own tenant, so test files running side by side never take each other's jobs.
 */
export async function startTestEngine(
  overrides: Partial<EngineResources> & { workerId?: string; scope?: Partial<Scope> } = {},
): Promise<TestEngine> {
  const env = loadServiceEnv();
  const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
  const policy = await loadCompiledPolicy();
  const scope: Scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU', ...overrides.scope };
  const otherScope: Scope = { ...scope, tenantId: uniqueTenantId() };
  const queuePrefix = uniqueName('mtest');
  const producer = createProducer({ url: env.REDIS_URL, prefix: queuePrefix });
  const { workerId = uniqueName('w'), scope: _scope, ...engineOverrides } = overrides;
  const launch = async (extra: Partial<EngineResources> = {}) => {
    const running = startWorkers({
      redisUrl: env.REDIS_URL,
      queuePrefix,
      workerId,
      concurrency: 4,
      logger: pino({ level: process.env.ENGINE_TEST_LOG ?? 'silent' }),
      engine: {
        graph,
        policy,
        tenants: [scope.tenantId, otherScope.tenantId],
        reconcileEveryMs: 1_000,
        reconcileGraceMs: 1_000,
        ...engineOverrides,
        ...extra,
      },
    });
    await running.ready;
    return running;
  };
  let workers = await launch();
  const defaultScope = scope;
  const _versions = new Map<string, string>();

  const published = new Map<string, PublishedManifest>();
  const knownStepTypes = [...BUILTIN_STEP_TYPES, ...(overrides.extraSteps ?? []).map((s) => s.uses)];

  return {
    scope,
    otherScope,
    graph,
    policy,
    producer,
    get workers() {
      return workers;
    },
    queuePrefix,
    async start(source, params = {}, options = {}) {
      const scope = options.scope ?? defaultScope;
      const key = `${scope.tenantId}/${source}`;
      let wf = published.get(key);
      if (!wf) {
        wf = await publishManifest(graph, scope, source, { knownStepTypes });
        published.set(key, wf);
      }
      const runId = await createPendingRun(graph, scope, wf, params, options.initiatedBy ?? 'ada');
      await producer.enqueue('runAdvance', { ...scope, runId });
      return runId;
    },
    waitForRun: (runId, options = {}) => waitForRun(graph, options.scope ?? defaultScope, runId, options),
    async tasks(runId, scope = defaultScope) {
      return (await getTasksForRuns(graph, scope, [runId])).get(runId) ?? [];
    },
    async timeline(runId, scope = defaultScope) {
      return (await listTimeline(graph, scope, runId, 5000, null)).events;
    },
    async restart(extra) {
      await workers.close();
      workers = await launch(extra);
    },
    async close() {
      await workers.close();
      await producer.close();
      await policy.close();
      await graph.close();
    },
  };
}
