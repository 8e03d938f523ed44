/**
 * Settings shared by playwright.config.ts and the specs, all overridable from the environment.
 * Keep this module free of side effects: Playwright imports it in the runner and in every worker.
 */
import path from 'node:path';

export const isCI = Boolean(process.env.CI);

/** Absolute path of the e2e/ folder. */
export const E2E_DIR = import.meta.dirname;
export const REPO_ROOT = path.resolve(E2E_DIR, '..');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new Error(`${name} must be a TCP port, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * System Chromium (Debian package). Playwright's own browser downloads are not available on this
 * closed network, so never run `playwright install`.
 */
export const CHROMIUM_EXECUTABLE = process.env.MAESTRO_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium flags; see e2e/README.md for why each one is there. */
export const CHROMIUM_ARGS: string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * Switchboard under test. 3100 by default so it never collides with a developer's `npm run dev`
 * on 3000.
 */
export const SWITCHBOARD_PORT = port('MAESTRO_SWITCHBOARD_PORT', 3100);
export const SWITCHBOARD_URL = `http://127.0.0.1:${SWITCHBOARD_PORT}`;

/**
 * Maestro API base URL handed to the Switchboard under test (as NEXT_PUBLIC_MAESTRO_API_URL, read by
 * the server at request time). Default: a loopback port where nothing listens, so the smoke test can
 * check the "unreachable" state. Port 2 rather than 9 (discard): Chromium refuses 9 and other
 * well-known ports with ERR_UNSAFE_PORT before any connection is attempted.
 */
export const E2E_API_URL = (process.env.MAESTRO_E2E_API_URL ?? 'http://127.0.0.1:2').replace(/\/+$/, '');
