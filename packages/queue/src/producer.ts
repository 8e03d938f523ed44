import { AppError } from '@maestro/domain';
import { type JobsOptions, Queue } from 'bullmq';
import { type JobName, type JobPayload, jobs } from './catalog.ts';
import { createRedis, type RedisOptions } from './connection.ts';

/** Enqueues catalog jobs; payloads are validated against the catalog before they reach Redis. */
const ENQUEUE_DEADLINE_MS = 3_000;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from redis within ${ms}ms`)), ms);
  });
  work.catch(() => {}); // settled later by the race; avoid an unhandled rejection
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface Producer {
  enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options?: { jobId?: string }): Promise<string>;
  queue(name: string): Queue;
  /** Resolves when Redis answers PING within the enqueue deadline. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createProducer(options: RedisOptions): Producer {
  const connection = createRedis(options, 'producer');
  // Never block a request on a dead Redis: an enqueue that cannot finish in time is an error.
  connection.on('error', () => {});
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection });
      queues.set(name, q);
    }
    return q;
  };
  return {
    queue,
    async enqueue(name, payload, opts = {}) {
      const def = jobs[name];
      const parsed = def.payload.safeParse(payload);
      if (!parsed.success) {
        throw new AppError('VALIDATION', `invalid payload for job ${def.id}: ${parsed.error.message}`);
      }
      const jobOptions: JobsOptions = {
        attempts: def.attempts,
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 24 * 3600 },
        ...(def.backoffMs > 0 ? { backoff: { type: 'exponential', delay: def.backoffMs } } : {}),
        ...(opts.jobId ? { jobId: opts.jobId } : {}),
      };
      try {
        const add = queue(def.queue).add(def.id, { v: def.version, payload: parsed.data }, jobOptions);
        const job = await withDeadline(add, ENQUEUE_DEADLINE_MS);
        return job.id ?? '';
      } catch (error) {
        throw new AppError('SERVICE_UNAVAILABLE', 'job queue (redis) is unavailable', { cause: error });
      }
    },
    async ping() {
      await withDeadline(connection.ping(), ENQUEUE_DEADLINE_MS);
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
