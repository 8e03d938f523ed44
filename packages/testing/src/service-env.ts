import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Connection settings for the real services the tests talk to. */
export interface ServiceEnv {
  REDIS_URL: string;
  DATABASE_URL: string;
  NEO4J_URI: string;
  NEO4J_USER: string;
  NEO4J_PASSWORD: string;
  OPA_BIN: string;
}

const KEYS: (keyof ServiceEnv)[] = [
  'REDIS_URL',
  'DATABASE_URL',
  'NEO4J_URI',
  'NEO4J_USER',
  'NEO4J_PASSWORD',
  'OPA_BIN',
];

/**
 * Variables already in the environment win (external services); the rest come from
 * .maestro/services.env, which `scripts/services.sh up` writes.
 */
export function loadServiceEnv(env: NodeJS.ProcessEnv = process.env): ServiceEnv {
  const file = join(env.MAESTRO_STATE_DIR ?? join(REPO_ROOT, '.maestro'), 'services.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  const out: Partial<ServiceEnv> = {};
  const missing: string[] = [];
  for (const key of KEYS) {
    const value = env[key] ?? fromFile[key];
    if (value === undefined || value === '') missing.push(key);
    else out[key] = value;
  }
  if (missing.length > 0) {
    throw new Error(
      `test services are not configured (${missing.join(', ')} missing): run 'scripts/services.sh up' or 'npm test'`,
    );
  }
  return out as ServiceEnv;
}
