import { z } from 'zod';

/**
 * The job catalog shared by api and worker: id, version, payload schema, retry and timeout.
 * Handlers live in the worker beside each other; producers only see this file.
 */
export interface JobDefinition<S extends z.ZodType> {
  id: string;
  version: number;
  queue: string;
  payload: S;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

export const jobs = {
  /** Liveness round trip: proves a worker consumes from Redis. */
  systemPing: defineJob({
    id: 'system.ping',
    version: 1,
    queue: 'maestro-system',
    payload: z.object({ nonce: z.string().min(1).max(200), requestedAt: z.iso.datetime() }),
    attempts: 1,
    backoffMs: 0,
    timeoutMs: 5_000,
  }),
} as const;

export type JobName = keyof typeof jobs;
export type JobPayload<N extends JobName> = z.infer<(typeof jobs)[N]['payload']>;
