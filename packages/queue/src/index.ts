export type { JobDefinition, JobName, JobPayload } from './catalog.ts';
export { jobs } from './catalog.ts';
export type { RedisOptions } from './connection.ts';
export { createRedis } from './connection.ts';
export type { Producer } from './producer.ts';
export { createProducer } from './producer.ts';
