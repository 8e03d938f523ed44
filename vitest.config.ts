import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One vitest run for the whole repo; each workspace is a project named after its package,
// so `npx vitest run --project @maestro/graph` runs one package's tests.
const workspaces = [
  'packages/domain',
  'packages/graph',
  'packages/policy',
  'packages/db',
  'packages/queue',
  'packages/steps',
  'packages/testing',
  'packages/control',
  'apps/api',
  'apps/worker',
  'apps/cli',
  'graph-schema',
];

export default defineConfig({
  // graphql ships CJS and ESM builds; Node (and so Pothos and Apollo) loads the CJS one, so tests
  // must too, or schema objects come from two module instances ("another module or realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    projects: workspaces.map((root) => ({
      extends: true,
      test: {
        name: (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { name: string }).name,
        root,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      },
    })),
    setupFiles: [new URL('./packages/testing/src/setup-env.ts', import.meta.url).pathname],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    passWithNoTests: true,
  },
});
