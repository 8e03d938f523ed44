import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeApiResources, createApiResources } from './api-instance.ts';
import { loadApiEnv } from './env.ts';
import { createApiServer } from './server.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
let env: ReturnType<typeof loadApiEnv>;
try {
  env = loadApiEnv();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const resources = await createApiResources(env, repoRoot);
const server = await createApiServer(resources, {
  corsOrigins: env.MAESTRO_CORS_ORIGINS.split(',').map((o) => o.trim()),
  devAuthSecret: env.MAESTRO_DEV_AUTH === '1' ? env.MAESTRO_JWT_SECRET : undefined,
  introspection: env.NODE_ENV !== 'production',
});
try {
  await server.listen(env.MAESTRO_API_HOST, env.MAESTRO_API_PORT);
} catch (error) {
  const code = (error as { code?: string }).code;
  resources.logger.fatal(
    code === 'EADDRINUSE'
      ? `api: port ${env.MAESTRO_API_HOST}:${env.MAESTRO_API_PORT} is already in use`
      : `api: could not listen: ${String(error)}`,
  );
  await closeApiResources(resources);
  process.exit(1);
}
resources.logger.info({ url: `http://${env.MAESTRO_API_HOST}:${env.MAESTRO_API_PORT}/graphql` }, 'api ready');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server
      .stop()
      .then(() => closeApiResources(resources))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
}
