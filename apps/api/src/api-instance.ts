import { join } from 'node:path';
import { createPrismaClient } from '@maestro/db';
import { createGraph } from '@maestro/graph';
import { loadPolicyPacks, loadWasmPolicy, signingKey } from '@maestro/policy';
import { createProducer } from '@maestro/queue';
import { pino } from 'pino';
import { createTokenVerifier } from './auth.ts';
import type { ApiEnv } from './env.ts';
import type { ApiResources } from './resources.ts';

/** The only place the API's singletons are made. */
export async function createApiResources(env: ApiEnv, repoRoot: string): Promise<ApiResources> {
  const logger = pino({
    level: env.LOG_LEVEL,
    base: { service: 'api' },
    redact: { paths: ['req.headers.authorization', '*.token', '*.password'], censor: '[redacted]' },
  });
  const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
  const db = createPrismaClient({ databaseUrl: env.DATABASE_URL });
  const queue = createProducer({ url: env.REDIS_URL });
  const policy = await loadWasmPolicy(join(repoRoot, 'policy-bundles/build/internal.tar.gz'), 'internal');
  const policyPacks = await loadPolicyPacks(
    join(repoRoot, 'policy-bundles/build/internal.json'),
    signingKey(env.MAESTRO_POLICY_SIGNING_KEY),
  );
  const verifyToken = createTokenVerifier({
    jwtSecret: env.MAESTRO_JWT_SECRET,
    oidcIssuer: env.MAESTRO_OIDC_ISSUER,
    oidcAudience: env.MAESTRO_OIDC_AUDIENCE,
    oidcJwksUrl: env.MAESTRO_OIDC_JWKS_URL,
  });
  return { graph, db, queue, policy, policyPacks, verifyToken, logger, clock: () => new Date() };
}

export async function closeApiResources(resources: ApiResources): Promise<void> {
  await Promise.allSettled([resources.graph.close(), resources.db.$disconnect(), resources.queue.close()]);
}
