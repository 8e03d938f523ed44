import { z } from 'zod';

/** The API's configuration: the one place it reads process.env. */
const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    MAESTRO_API_HOST: z.string().default('127.0.0.1'),
    MAESTRO_API_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    MAESTRO_JWT_SECRET: z.string().min(32, 'MAESTRO_JWT_SECRET must be at least 32 characters').optional(),
    MAESTRO_OIDC_ISSUER: z.string().url().optional(),
    MAESTRO_OIDC_AUDIENCE: z.string().optional(),
    MAESTRO_OIDC_JWKS_URL: z.string().url().optional(),
    /** Dev-only token endpoint for Switchboard's demo sign-in; never on in production. */
    MAESTRO_DEV_AUTH: z.enum(['0', '1']).default('0'),
    /** Ed25519 private key (PEM) that signs policy packs; a per-process key when unset (dev). */
    MAESTRO_POLICY_SIGNING_KEY: z.string().optional(),
    /** internal | hosted-saas: which compiled bundle the API enforces. */
    MAESTRO_POLICY_PROFILE: z.enum(['internal', 'hosted-saas']).default('internal'),
    /** wasm (in process, default) or remote (an OPA server at MAESTRO_OPA_URL, e.g. a sidecar). */
    MAESTRO_POLICY_MODE: z.enum(['wasm', 'remote']).default('wasm'),
    MAESTRO_OPA_URL: z.string().url().optional(),
    MAESTRO_POLICY_DEADLINE_MS: z.coerce.number().int().min(1).max(10_000).default(50),
    MAESTRO_CORS_ORIGINS: z.string().default('http://127.0.0.1:3000,http://localhost:3000'),
    REDIS_URL: z.string().url(),
    /** BullMQ key prefix; workers must use the same one. */
    MAESTRO_QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    NEO4J_URI: z.string().min(1),
    NEO4J_USER: z.string().default('neo4j'),
    NEO4J_PASSWORD: z.string().min(1),
    DATABASE_URL: z.string().min(1),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (!env.MAESTRO_JWT_SECRET && !env.MAESTRO_OIDC_ISSUER) {
      ctx.addIssue({
        code: 'custom',
        message: 'set MAESTRO_JWT_SECRET (dev) or MAESTRO_OIDC_ISSUER (production)',
      });
    }
    if (env.MAESTRO_POLICY_MODE === 'remote' && !env.MAESTRO_OPA_URL) {
      ctx.addIssue({ code: 'custom', message: 'MAESTRO_POLICY_MODE=remote needs MAESTRO_OPA_URL' });
    }
    if (env.NODE_ENV === 'production' && env.MAESTRO_DEV_AUTH === '1') {
      ctx.addIssue({ code: 'custom', message: 'MAESTRO_DEV_AUTH cannot be enabled in production' });
    }
  });

export type ApiEnv = z.infer<typeof schema>;

export function loadApiEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`).join('; ');
    throw new Error(`api configuration is invalid: ${problems}`);
  }
  return parsed.data;
}
