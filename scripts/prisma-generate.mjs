#!/usr/bin/env node
// Runs `prisma generate` offline (invoked as `npm run generate -w @maestro/db`, cwd packages/db).
//
// The Prisma CLI resolves a schema-engine binary before generating and would try to
// download one from a host this machine cannot reach. Generate never runs that engine,
// so pointing PRISMA_SCHEMA_ENGINE_BINARY at any harmless executable is enough.
// Skips the work when the generated client is newer than schema.prisma, prisma.config.ts,
// this script and the installed prisma package.
//
//   --force   regenerate even when the output looks fresh
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dbPackage = join(root, 'packages', 'db');
const configFile = join(root, 'prisma.config.ts');
const schemaFile = join(root, 'prisma', 'schema.prisma');
const outputDir = join(dbPackage, 'src', 'generated', 'prisma');
// Touched after every successful generate; its mtime tells when the output was produced.
const outputStamp = join(outputDir, '.generated-stamp');

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

const require = createRequire(join(dbPackage, 'package.json'));
let prismaPackageJson;
try {
  prismaPackageJson = require.resolve('prisma/package.json');
} catch {
  console.error(
    'prisma-generate: the prisma CLI is not installed (devDependency of @maestro/db); run npm ci',
  );
  process.exit(1);
}
const prismaCli = join(dirname(prismaPackageJson), 'build', 'index.js');

const force = process.argv.includes('--force');
const generatedAt = existsSync(join(outputDir, 'client.ts')) ? mtime(outputStamp) : undefined;
const inputsChangedAt = Math.max(
  mtime(schemaFile) ?? Number.POSITIVE_INFINITY,
  mtime(configFile) ?? 0,
  mtime(fileURLToPath(import.meta.url)) ?? 0,
  mtime(prismaPackageJson) ?? 0, // a Prisma upgrade regenerates
);
if (!force && generatedAt !== undefined && generatedAt > inputsChangedAt) {
  console.log('prisma-generate: client is up to date (use --force to regenerate)');
  process.exit(0);
}

function firstExecutable(candidates) {
  return candidates.find((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

const env = { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const harmless = firstExecutable(['/bin/true', '/usr/bin/true', process.execPath]);
  if (harmless) env.PRISMA_SCHEMA_ENGINE_BINARY = harmless;
}

if (!existsSync(prismaCli)) {
  console.error(`prisma-generate: ${prismaCli} not found`);
  process.exit(1);
}

const started = performance.now();
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--config', configFile], {
  cwd: dbPackage,
  env,
  stdio: 'inherit',
});
if (result.error) {
  console.error(`prisma-generate: could not run prisma: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(outputStamp, `${new Date().toISOString()}\n`);
console.log(`prisma-generate: done in ${Math.round(performance.now() - started)} ms`);
