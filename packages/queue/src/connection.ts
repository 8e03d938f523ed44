import { Redis } from 'ioredis';

export interface RedisOptions {
  url: string;
  /**
   * Key prefix of every queue (BullMQ's `prefix`, default "bull"). Deployments sharing a Redis,
   * and tests running side by side, keep their queues apart with it.
   */
  prefix?: string;
}

/**
 * Workers need maxRetriesPerRequest=null (blocking reads must wait out reconnects);
 * producers serve users and must fail fast when Redis is down instead of queueing forever.
 * Each Queue/Worker gets its own connection so a blocking read never delays a producer.
 */
export function createRedis(options: RedisOptions, role: 'worker' | 'producer' = 'worker'): Redis {
  return new Redis(options.url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    connectTimeout: 5_000,
    enableReadyCheck: true,
  });
}
