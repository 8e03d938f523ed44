/**
 * Playwright harness for Maestro Switchboard.
 *
 * The pieces are exported so later suites can reuse or extend them, e.g. to add the API as a second
 * web server:
 *
 *   export const apiServer: WebServer = { name: 'api', command: '…', url: 'http://127.0.0.1:4000/healthz', … };
 *   webServer: [apiServer, switchboardServer]   // and point MAESTRO_E2E_API_URL at it
 *
 * With an array of web servers Playwright requires `use.baseURL`, which is already set below.
 */
import { defineConfig, type PlaywrightTestConfig, type Project } from '@playwright/test';
import {
  CHROMIUM_ARGS,
  CHROMIUM_EXECUTABLE,
  E2E_API_URL,
  E2E_DIR,
  isCI,
  SWITCHBOARD_PORT,
  SWITCHBOARD_URL,
} from './env';

/** One `webServer` entry. */
export type WebServer = Extract<NonNullable<PlaywrightTestConfig['webServer']>, { command: string }>;

/** Switchboard: `next start` on an existing build, or `next build` first (scripts/serve-switchboard.sh). */
export const switchboardServer: WebServer = {
  name: 'switchboard',
  command: 'bash scripts/serve-switchboard.sh',
  cwd: E2E_DIR,
  url: SWITCHBOARD_URL,
  env: {
    MAESTRO_SWITCHBOARD_PORT: String(SWITCHBOARD_PORT),
    NEXT_PUBLIC_MAESTRO_API_URL: E2E_API_URL,
    NEXT_TELEMETRY_DISABLED: '1',
  },
  // Locally, reuse a Switchboard already listening on the test port; in CI always start a fresh one.
  reuseExistingServer: !isCI,
  // Covers a cold `next build` (~15 s on 2 cores) plus startup.
  timeout: 180_000,
  stdout: 'ignore',
  stderr: 'pipe',
  gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
};

/** All web servers the suite needs; append the API here when it joins the harness. */
export const webServers: WebServer[] = [switchboardServer];

/** Headless system Chromium with the network-quiet flags. */
export const chromiumProject: Project = {
  name: 'chromium',
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: CHROMIUM_EXECUTABLE,
      args: CHROMIUM_ARGS,
    },
  },
};

export default defineConfig({
  testDir: 'tests',
  outputDir: 'test-results',
  // 2-core machine: one worker; Next and Chromium already compete for the CPUs.
  workers: 1,
  fullyParallel: false,
  forbidOnly: isCI,
  retries: isCI ? 1 : 0,
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  use: {
    baseURL: SWITCHBOARD_URL,
    colorScheme: 'light',
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [chromiumProject],
  webServer: webServers,
});
