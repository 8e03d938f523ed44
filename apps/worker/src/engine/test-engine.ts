import { join } from 'node:path';
import {
  AppError,
  BUILTIN_STEP_TYPES,
  initialTasks,
  type Manifest,
  newId,
  parseManifest,
  type Scope,
  validateParams,
} from '@maestro/domain';
import {
  createGraph,
  createRun,
  getRun,
  getTasksForRuns,
  listTimeline,
  type RunRecord,
  saveWorkflowVersion,
  type TaskRecord,
  type TimelineEventRecord,
} from '@maestro/graph';
import { createPolicyEngine, type PolicyEngine } from '@maestro/policy';
import { createProducer } from '@maestro/queue';
import { loadServiceEnv, REPO_ROOT, uniqueName, uniqueTenantId } from '@maestro/testing';
import { pino } from 'pino';
import { type EngineResources, type RunningWorkers, startWorkers } from '../workers.ts';

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED'];

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
  const policy = await createPolicyEngine({
    bundlePath: join(REPO_ROOT, 'policy-bundles/build/internal.tar.gz'),
    profile: 'internal',
    deadlineMs: 2000,
  });
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
  const versions = new Map<string, string>();

  async function versionOf(scope: Scope, manifest: Manifest, digest: string): Promise<string> {
    const key = `${scope.tenantId}/${manifest.name}@${manifest.version}`;
    const known = versions.get(key);
    if (known) return known;
    const saved = await saveWorkflowVersion(graph, scope, {
      name: manifest.name,
      version: manifest.version,
      digest,
      manifest,
      publishedBy: 'ken',
      publishedByRoles: ['composer'],
      publishedAt: new Date(),
    });
    versions.set(key, saved.versionId);
    return saved.versionId;
  }

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
      const parsed = parseManifest(source, {
        knownStepTypes: [...BUILTIN_STEP_TYPES, ...(overrides.extraSteps ?? []).map((s) => s.uses)],
      });
      if (!parsed.ok) throw new AppError('VALIDATION', parsed.errors.map((e) => e.message).join('; '));
      const checked = validateParams(parsed.manifest, params);
      if (!checked.ok) throw new AppError('VALIDATION', checked.errors.map((e) => e.message).join('; '));
      const versionId = await versionOf(scope, parsed.manifest, parsed.digest);
      const runId = newId('Run');
      await createRun(graph, scope, {
        id: runId,
        workflowVersionId: versionId,
        status: 'PENDING',
        params: checked.values,
        initiatedBy: options.initiatedBy ?? 'ada',
        initiatorRoles: ['operator'],
        idempotencyKey: null,
        estimatedCostUSD: null,
        createdAt: new Date(),
        tasks: initialTasks(parsed.manifest, parsed.digest, checked.values, () => newId('Task')),
      });
      await producer.enqueue('runAdvance', { ...scope, runId });
      return runId;
    },
    async waitForRun(runId, options = {}) {
      const scope = options.scope ?? defaultScope;
      const until = options.until ?? ((r: RunRecord) => TERMINAL.includes(r.status));
      const deadline = Date.now() + (options.timeoutMs ?? 20_000);
      for (;;) {
        const run = await getRun(graph, scope, runId);
        if (run && until(run)) return run;
        if (Date.now() > deadline) {
          throw new Error(
            `run ${runId} still ${run?.status ?? 'missing'} after ${options.timeoutMs ?? 20_000} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
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
