import { createRedis, jobs } from '@maestro/queue';
import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { systemPing } from './handlers/system-ping.ts';

export interface WorkerResources {
  redisUrl: string;
  workerId: string;
  concurrency: number;
  logger: Logger;
}

export interface RunningWorkers {
  workers: Worker[];
  /** Graceful drain: stop taking jobs, let running ones finish, close connections. */
  close(): Promise<void>;
}

export function startWorkers(resources: WorkerResources): RunningWorkers {
  const { logger, workerId } = resources;
  const system = new Worker(
    jobs.systemPing.queue,
    async (job: Job<{ v: number; payload: unknown }>) => {
      const payload = jobs.systemPing.payload.parse(job.data.payload);
      return systemPing(payload, workerId);
    },
    {
      connection: createRedis({ url: resources.redisUrl }),
      concurrency: resources.concurrency,
      autorun: true,
    },
  );
  system.on('failed', (job, error) => logger.warn({ jobId: job?.id, err: error.message }, 'job failed'));
  system.on('error', (error) => logger.error({ err: error.message }, 'worker error'));
  const workers = [system];
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
