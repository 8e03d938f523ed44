import { z } from 'zod';

/** The worker's configuration: the one place it reads process.env. */
const schema = z.object({
  REDIS_URL: z.string().url(),
  NEO4J_URI: z.string().min(1),
  NEO4J_USER: z.string().default('neo4j'),
  NEO4J_PASSWORD: z.string().min(1),
  DATABASE_URL: z.string().min(1),
  MAESTRO_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  MAESTRO_WORKER_ID: z.string().default(`worker-${process.pid}`),
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
