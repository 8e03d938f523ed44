import { join } from 'node:path';
import { createPrismaClient } from '@maestro/db';
import { createGraph } from '@maestro/graph';
import {
  createPolicyEngine,
  createRemotePolicyEngine,
  loadPolicyPacks,
  type PolicyEngine,
  signingKey,
} from '@maestro/policy';
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
  const queue = createProducer({
    url: env.REDIS_URL,
    ...(env.MAESTRO_QUEUE_PREFIX ? { prefix: env.MAESTRO_QUEUE_PREFIX } : {}),
  });
  const profile = env.MAESTRO_POLICY_PROFILE;
  const onUnavailable = (cause: string, action: string) =>
    logger.error({ cause, action }, 'policy decision point unavailable: denied (fail closed)');
  let policy: PolicyEngine;
  let authorize: ApiResources['authorize'];
  if (env.MAESTRO_POLICY_MODE === 'remote' && env.MAESTRO_OPA_URL) {
    const remote = await createRemotePolicyEngine({ url: env.MAESTRO_OPA_URL, profile, onUnavailable });
    policy = remote;
    // A sidecar answers role checks through the same decision document (nothing is recorded).
    authorize = async (action, actor) =>
      (
        await remote.decide(action, {
          actor: { sub: actor.subject, subject: actor.subject, roles: actor.roles },
        })
      ).allow;
  } else {
    const wasm = await createPolicyEngine({
      bundlePath: join(repoRoot, `policy-bundles/build/${profile}.tar.gz`),
      profile,
      deadlineMs: env.MAESTRO_POLICY_DEADLINE_MS,
      onUnavailable,
      onReload: (r) =>
        r.ok
          ? logger.info({ bundle: r.bundle }, 'policy bundle reloaded')
          : logger.error({ err: r.error.message }, 'policy bundle refused; previous bundle keeps serving'),
    });
    wasm.watch();
    policy = wasm;
    authorize = async (action, actor) =>
      wasm.can(action, { sub: actor.subject, subject: actor.subject, roles: actor.roles });
  }
  const policyPacks = await loadPolicyPacks(
    join(repoRoot, `policy-bundles/build/${profile}.json`),
    signingKey(env.MAESTRO_POLICY_SIGNING_KEY),
  );
  const verifyToken = createTokenVerifier({
    jwtSecret: env.MAESTRO_JWT_SECRET,
    oidcIssuer: env.MAESTRO_OIDC_ISSUER,
    oidcAudience: env.MAESTRO_OIDC_AUDIENCE,
    oidcJwksUrl: env.MAESTRO_OIDC_JWKS_URL,
  });
  return { graph, db, queue, policy, authorize, policyPacks, verifyToken, logger, clock: () => new Date() };
}

export async function closeApiResources(resources: ApiResources): Promise<void> {
  await Promise.allSettled([
    resources.graph.close(),
    resources.db.$disconnect(),
    resources.queue.close(),
    resources.policy.close(),
  ]);
}
