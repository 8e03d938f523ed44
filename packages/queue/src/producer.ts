import { AppError } from '@maestro/domain';
import { type JobsOptions, Queue } from 'bullmq';
import { type JobName, type JobPayload, jobs } from './catalog.ts';
import { createRedis, type RedisOptions } from './connection.ts';

/** Redis channel on which cancelled runs are announced to workers. */
export const CANCEL_CHANNEL = 'maestro:cancel';

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

export interface EnqueueOptions {
  jobId?: string;
  /** Milliseconds to wait before the job becomes available. */
  delay?: number;
}

export interface Producer {
  enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options?: EnqueueOptions): Promise<string>;
  /** Many jobs of one kind in one round trip (fan-out). */
  enqueueMany<N extends JobName>(
    name: N,
    items: { payload: JobPayload<N>; options?: EnqueueOptions }[],
  ): Promise<string[]>;
  queue(name: string): Queue;
  /** Tells every worker to stop the running steps of a cancelled or ended run (Redis pub/sub). */
  signalCancel(runId: string): Promise<void>;
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
      q = new Queue(name, { connection, ...(options.prefix ? { prefix: options.prefix } : {}) });
      queues.set(name, q);
    }
    return q;
  };
  const enqueueMany: Producer['enqueueMany'] = async (name, items) => {
    if (items.length === 0) return [];
    const def = jobs[name];
    const bulk = items.map(({ payload, options: opts = {} }) => {
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
        ...(opts.delay && opts.delay > 0 ? { delay: Math.ceil(opts.delay) } : {}),
      };
      return { name: def.id, data: { v: def.version, payload: parsed.data }, opts: jobOptions };
    });
    try {
      const add =
        bulk.length === 1 && bulk[0]
          ? queue(def.queue)
              .add(bulk[0].name, bulk[0].data, bulk[0].opts)
              .then((j) => [j])
          : queue(def.queue).addBulk(bulk);
      const added = await withDeadline(add, ENQUEUE_DEADLINE_MS);
      return added.map((j) => j.id ?? '');
    } catch (error) {
      throw new AppError('SERVICE_UNAVAILABLE', 'job queue (redis) is unavailable', { cause: error });
    }
  };
  return {
    queue,
    async enqueue(name, payload, opts = {}) {
      const [id] = await enqueueMany(name, [{ payload, options: opts }]);
      return id ?? '';
    },
    enqueueMany,
    async signalCancel(runId) {
      await withDeadline(connection.publish(CANCEL_CHANNEL, runId), ENQUEUE_DEADLINE_MS);
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
