import { z } from 'zod';

/** The worker's configuration: the one place it reads process.env. */
const schema = z.object({
  REDIS_URL: z.string().url(),
  NEO4J_URI: z.string().min(1),
  NEO4J_USER: z.string().default('neo4j'),
  NEO4J_PASSWORD: z.string().min(1),
  DATABASE_URL: z.string().min(1),
  /** Orchestrator jobs at once (run.advance, run.deadline, system). */
  MAESTRO_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** Steps this process runs at once. */
  MAESTRO_TASK_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  /** Running steps per tenant across all workers (fair dispatch). */
  MAESTRO_TENANT_TASK_LIMIT: z.coerce.number().int().min(1).max(10_000).default(8),
  /** Unique among live workers: a restart with the same id takes its old claims over at once. */
  MAESTRO_WORKER_ID: z.string().min(1).max(200).default(`worker-${process.pid}`),
  MAESTRO_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(6_000),
  MAESTRO_RECONCILE_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  MAESTRO_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  MAESTRO_POLICY_PROFILE: z.enum(['internal', 'hosted-saas']).default('internal'),
  MAESTRO_POLICY_DEADLINE_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  /** OpenAI-compatible endpoint for llm.generate (litellm, Ollama); unset = not configured. */
  MAESTRO_LLM_BASE_URL: z.string().url().optional(),
  MAESTRO_LLM_API_KEY: z.string().optional(),
  /** BullMQ key prefix; the API must use the same one. */
  MAESTRO_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /** Comma-separated tenant ids this pool reconciles (a dedicated pool); unset = every tenant. */
  MAESTRO_WORKER_TENANTS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : undefined,
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type WorkerEnv = z.infer<typeof schema>;

export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`worker configuration is invalid: ${problems}`);
  }
  return parsed.data;
}
