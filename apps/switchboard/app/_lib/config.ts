import { connection } from 'next/server';

/** Environment variable holding the Maestro API base URL, e.g. `http://127.0.0.1:4000`. */
export const API_URL_ENV = 'NEXT_PUBLIC_MAESTRO_API_URL';
/** Fallback: the repo-wide API URL variable (CLI, scripts/start.sh). */
export const FALLBACK_API_URL_ENV = 'MAESTRO_API_URL';
export const DEFAULT_API_URL = 'http://127.0.0.1:4000';

/** Normalises an API base URL: must be http(s); trailing slashes are dropped. */
export function normalizeApiBaseUrl(raw: string | undefined, source = API_URL_ENV): string {
  const value = raw?.trim();
  if (!value) return DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${source} is not a valid URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${source} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * Reads an environment variable when the code runs, never at build time.
 *
 * `next build` inlines `process.env.NEXT_PUBLIC_*` into server and client bundles when the variable
 * is set during the build — and Turbopack constant-folds `process.env[KEY]` with a `const KEY` too
 * (verified with Next 16.4.6). Scanning `Object.entries(process.env)` is opaque to the bundler, so the
 * value always comes from the server process's environment.
 */
function readRuntimeEnv(name: string): string | undefined {
  for (const [key, value] of Object.entries(process.env)) {
    if (key === name) return value;
  }
  return undefined;
}

/**
 * The API base URL for this request, read from the server's environment at request time
 * (`connection()` opts the caller out of prerendering), so one `.next` build can be pointed at any
 * API. Client components receive it via props/context from the root layout, never via `process.env`.
 *
 * Precedence: NEXT_PUBLIC_MAESTRO_API_URL, then MAESTRO_API_URL, then http://127.0.0.1:4000.
 */
export async function getApiBaseUrl(): Promise<string> {
  await connection();
  for (const name of [API_URL_ENV, FALLBACK_API_URL_ENV]) {
    const value = readRuntimeEnv(name)?.trim();
    if (value) return normalizeApiBaseUrl(value, name);
  }
  return DEFAULT_API_URL;
}
