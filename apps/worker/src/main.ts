import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPrismaClient } from '@maestro/db';
import { createGraph } from '@maestro/graph';
import { createPolicyEngine } from '@maestro/policy';
import { pino } from 'pino';
import { loadWorkerEnv } from './env.ts';
import { startWorkers } from './workers.ts';

let env: ReturnType<typeof loadWorkerEnv>;
try {
  env = loadWorkerEnv();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'worker', workerId: env.MAESTRO_WORKER_ID } });
const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
const db = createPrismaClient({ databaseUrl: env.DATABASE_URL });
const policy = await createPolicyEngine({
  bundlePath: join(repoRoot, `policy-bundles/build/${env.MAESTRO_POLICY_PROFILE}.tar.gz`),
  profile: env.MAESTRO_POLICY_PROFILE,
  deadlineMs: env.MAESTRO_POLICY_DEADLINE_MS,
  onUnavailable: (cause, action) =>
    logger.error({ cause, action }, 'policy decision point unavailable: denied (fail closed)'),
});
policy.watch();
const running = startWorkers({
  redisUrl: env.REDIS_URL,
  ...(env.MAESTRO_QUEUE_PREFIX ? { queuePrefix: env.MAESTRO_QUEUE_PREFIX } : {}),
  workerId: env.MAESTRO_WORKER_ID,
  concurrency: env.MAESTRO_WORKER_CONCURRENCY,
  logger,
  engine: {
    graph,
    policy,
    db,
    steps: env.MAESTRO_LLM_BASE_URL
      ? {
          llm: {
            baseUrl: env.MAESTRO_LLM_BASE_URL,
            ...(env.MAESTRO_LLM_API_KEY ? { apiKey: env.MAESTRO_LLM_API_KEY } : {}),
          },
        }
      : {},
    taskConcurrency: env.MAESTRO_TASK_CONCURRENCY,
    tenantTaskLimit: env.MAESTRO_TENANT_TASK_LIMIT,
    leaseMs: env.MAESTRO_LEASE_MS,
    reconcileEveryMs: env.MAESTRO_RECONCILE_MS,
    drainTimeoutMs: env.MAESTRO_DRAIN_TIMEOUT_MS,
    ...(env.MAESTRO_WORKER_TENANTS ? { tenants: env.MAESTRO_WORKER_TENANTS } : {}),
  },
});
await running.ready;
logger.info({ queues: running.workers.map((w) => w.name) }, 'worker ready');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    running
      .close()
      .then(() => Promise.all([policy.close(), graph.close(), db.$disconnect()]))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: String(error) }, 'drain failed');
          process.exit(1);
        },
      );
  });
}
