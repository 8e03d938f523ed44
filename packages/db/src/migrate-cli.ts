/**
 * `tsx packages/db/src/migrate-cli.ts` — applies prisma/migrations to $DATABASE_URL.
 * The only place in packages/db that reads process.env (it is an entrypoint).
 */
import { fileURLToPath } from 'node:url';
import { applyMigrations, MigrationError } from './migrate.ts';

const migrationsDir = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error('db: DATABASE_URL is not set');
    return 2;
  }
  const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
  try {
    const started = performance.now();
    const { applied } = await applyMigrations({
      databaseUrl,
      migrationsDir,
      ...(verbose ? { log: (line: string) => console.log(line) } : {}),
    });
    const ms = Math.round(performance.now() - started);
    console.log(
      applied.length === 0
        ? 'db: up to date'
        : `db: applied ${applied.length} migration(s)${verbose ? ` in ${ms} ms` : ''}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof MigrationError) {
      console.error(`db: ${error.code}: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
    } else {
      console.error(`db: migration failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return 1;
  }
}

process.exitCode = await main();
