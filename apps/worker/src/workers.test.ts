import { createProducer, jobs } from '@maestro/queue';
import { loadServiceEnv } from '@maestro/testing';
import { QueueEvents } from 'bullmq';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorkers } from './workers.ts';

const env = loadServiceEnv();
const producer = createProducer({ url: env.REDIS_URL });
const running = startWorkers({
  redisUrl: env.REDIS_URL,
  workerId: 'test-worker',
  concurrency: 2,
  logger: pino({ level: 'silent' }),
});
const events = new QueueEvents(jobs.systemPing.queue, { connection: { url: env.REDIS_URL } });

afterAll(async () => {
  await running.close();
  await events.close();
  await producer.close();
});

describe('worker on the real Redis', () => {
  it('consumes a catalog job and returns its result', async () => {
    await events.waitUntilReady();
    const nonce = crypto.randomUUID();
    const id = await producer.enqueue('systemPing', { nonce, requestedAt: new Date().toISOString() });
    const job = await producer.queue(jobs.systemPing.queue).getJob(id);
    expect(job).toBeDefined();
    const result = await job?.waitUntilFinished(events, 10_000);
    expect(result).toMatchObject({ nonce, workerId: 'test-worker' });
  });

  it('rejects a payload that does not match the catalog before it reaches Redis', async () => {
    await expect(
      producer.enqueue('systemPing', { nonce: '', requestedAt: 'yesterday' } as never),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('reports an unreachable Redis as SERVICE_UNAVAILABLE', async () => {
    const down = createProducer({ url: 'redis://127.0.0.1:9' });
    try {
      await expect(
        Promise.race([
          down.enqueue('systemPing', { nonce: 'x', requestedAt: new Date().toISOString() }),
          new Promise((_, reject) => setTimeout(() => reject(new Error('hung')), 8_000)),
        ]),
      ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await down.close();
    }
  });
});
