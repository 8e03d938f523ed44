import { pino } from 'pino';
import { loadWorkerEnv } from './env.ts';
import { startWorkers } from './workers.ts';

let env: ReturnType<typeof loadWorkerEnv>;
try {
  env = loadWorkerEnv();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const logger = pino({ level: env.LOG_LEVEL, base: { service: 'worker', workerId: env.MAESTRO_WORKER_ID } });
const running = startWorkers({
  redisUrl: env.REDIS_URL,
  workerId: env.MAESTRO_WORKER_ID,
  concurrency: env.MAESTRO_WORKER_CONCURRENCY,
  logger,
});
logger.info({ queues: running.workers.map((w) => w.name) }, 'worker ready');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: String(error) }, 'drain failed');
        process.exit(1);
      },
    );
  });
}
