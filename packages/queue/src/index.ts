export type { Redis } from 'ioredis';
export type { JobDefinition, JobName, JobPayload } from './catalog.ts';
export { jobs, taskJobId } from './catalog.ts';
export type { RedisOptions } from './connection.ts';
export { createRedis } from './connection.ts';
export type { EnqueueOptions, Producer } from './producer.ts';
export { CANCEL_CHANNEL, createProducer } from './producer.ts';
