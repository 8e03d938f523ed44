/**
 * Applies hand-written SQL migrations kept in Prisma's folder format
 * (`<migrationsDir>/<name>/migration.sql`) and records them in Prisma's
 * `_prisma_migrations` table exactly as `prisma migrate deploy` does, so the
 * Prisma CLI treats them as applied wherever its schema engine is available.
 * See docs/adr/0002-prisma-offline-migrations.md.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export type MigrationErrorCode =
  /** The database could not be reached (connection refused, DNS, auth, timeout). */
  | 'DB_UNREACHABLE'
  /** Another migrator held the lock for longer than `lockTimeoutMs`. */
  | 'MIGRATION_LOCK_TIMEOUT'
  /** The migrations folder is malformed (missing migration.sql, wrong provider). */
  | 'MIGRATION_DIR_INVALID'
  /** An already-applied migration.sql was edited after it was applied. */
  | 'MIGRATION_CHECKSUM_MISMATCH'
  /** A migration row was left unfinished (by `prisma migrate` or a crash); resolve it first. */
  | 'MIGRATION_INCOMPLETE'
  /** A migration's SQL failed; its transaction was rolled back. */
  | 'MIGRATION_FAILED';

export class MigrationError extends Error {
  readonly code: MigrationErrorCode;
  /** The migration folder concerned, when there is one. */
  readonly migration: string | undefined;

  constructor(
    code: MigrationErrorCode,
    message: string,
    options: { migration?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MigrationError';
    this.code = code;
    this.migration = options.migration;
  }
}

export interface ApplyMigrationsOptions {
  databaseUrl: string;
  /** Folder holding `<timestamp>_<name>/migration.sql` folders and `migration_lock.toml`. */
  migrationsDir: string;
  log?: (line: string) => void;
  /** How long to wait for a concurrent migrator to finish. Default 60 s. */
  lockTimeoutMs?: number;
  /** Connection timeout. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface ApplyMigrationsResult {
  /** Names applied by this call, in order. */
  applied: string[];
  /** Every migration folder found, in order. */
  all: string[];
}

/** Prisma's table name and DDL (schema-engine, PostgreSQL flavour), verbatim. */
export const PRISMA_MIGRATIONS_TABLE = '_prisma_migrations';
export const PRISMA_MIGRATIONS_DDL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

/** Prisma's advisory lock key: holding it also excludes a concurrent `prisma migrate`. */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

interface MigrationDir {
  name: string;
  script: string;
}

interface AppliedRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/** sha256 of the script as lowercase hex — the value Prisma stores in `checksum`. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Prisma's verification is tolerant of line-ending changes (git autocrlf) and of the
 * non-zero-padded hex that very old Prisma versions stored; so is ours.
 */
function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\r?\n/g, '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    const padded = digest.toString('hex');
    const unpadded = Array.from(digest, (byte) => byte.toString(16)).join('');
    return checksum === padded || checksum === unpadded;
  });
}

/** `host:port` of a connection URL, for messages (never the credentials). */
export function describeTarget(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const host = url.hostname || 'localhost';
    return `${host}:${url.port || '5432'}${url.pathname && url.pathname !== '/' ? url.pathname : ''}`;
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

async function readMigrationDirs(migrationsDir: string): Promise<MigrationDir[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (cause) {
    throw new MigrationError('MIGRATION_DIR_INVALID', `migrations folder ${migrationsDir} cannot be read`, {
      cause,
    });
  }

  const lockFile = entries.find((entry) => entry.isFile() && entry.name === 'migration_lock.toml');
  if (lockFile) {
    const lock = await readFile(join(migrationsDir, lockFile.name), 'utf8');
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(lock)?.[1];
    if (provider !== undefined && provider !== 'postgresql') {
      throw new MigrationError(
        'MIGRATION_DIR_INVALID',
        `${join(migrationsDir, 'migration_lock.toml')} is for provider "${provider}", not "postgresql"`,
      );
    }
  }

  // Prisma orders migrations by folder name (plain code-unit order, not locale order).
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const dirs: MigrationDir[] = [];
  for (const name of names) {
    const file = join(migrationsDir, name, 'migration.sql');
    let script: string;
    try {
      script = await readFile(file, 'utf8');
    } catch (cause) {
      throw new MigrationError('MIGRATION_DIR_INVALID', `${file} is missing or unreadable`, {
        migration: name,
        cause,
      });
    }
    dirs.push({ name, script });
  }
  return dirs;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const detail = error.message || (typeof code === 'string' ? code : error.name);
    return typeof code === 'string' && !detail.includes(code) ? `${detail} (${code})` : detail;
  }
  return String(error);
}

async function connect(databaseUrl: string, connectTimeoutMs: number): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'maestro-migrate',
  });
  // An idle client that loses its server emits 'error'; without a listener that crashes the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (cause) {
    await client.end().catch(() => {});
    throw new MigrationError(
      'DB_UNREACHABLE',
      `cannot connect to postgres at ${describeTarget(databaseUrl)}: ${errorText(cause)}`,
      { cause },
    );
  }
  return client;
}

async function acquireLock(client: pg.Client, lockTimeoutMs: number): Promise<void> {
  try {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
  } catch (cause) {
    if ((cause as { code?: unknown }).code === '55P03') {
      throw new MigrationError(
        'MIGRATION_LOCK_TIMEOUT',
        `timed out after ${lockTimeoutMs} ms waiting for the migration lock (pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})); another migrator is running`,
        { cause },
      );
    }
    throw cause;
  } finally {
    await client.query('RESET lock_timeout').catch(() => {});
  }
}

async function ensureMigrationsTable(client: pg.Client): Promise<void> {
  // Looked up on the search_path like Prisma's unqualified DDL, so both agree on the schema.
  const { rows } = await client.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS "exists"`, [
    PRISMA_MIGRATIONS_TABLE,
  ]);
  if (!rows[0]?.exists) {
    await client.query(PRISMA_MIGRATIONS_DDL);
  }
}

/**
 * Applies every pending migration folder in name order, each in its own transaction,
 * under Prisma's advisory lock. Idempotent; safe to call concurrently.
 *
 * Bookkeeping matches Prisma: one `_prisma_migrations` row per applied migration with a
 * fresh UUID, sha256 checksum, started_at/finished_at and applied_steps_count = 1.
 * A failing migration is rolled back and recorded as Prisma's `migrate resolve
 * --rolled-back` would leave it (logs set, rolled_back_at set), so it can be fixed and
 * re-applied by either tool.
 */
export async function applyMigrations(options: ApplyMigrationsOptions): Promise<ApplyMigrationsResult> {
  const log = options.log ?? (() => {});
  const dirs = await readMigrationDirs(options.migrationsDir);
  const client = await connect(options.databaseUrl, options.connectTimeoutMs ?? 10_000);
  let locked = false;
  try {
    await acquireLock(client, options.lockTimeoutMs ?? 60_000);
    locked = true;
    await ensureMigrationsTable(client);

    const { rows } = await client.query<AppliedRow>(
      `SELECT id, checksum, migration_name, finished_at, rolled_back_at, logs
         FROM ${PRISMA_MIGRATIONS_TABLE} ORDER BY started_at, migration_name`,
    );

    // Same rule as Prisma (P3009): an unfinished, not-rolled-back row blocks everything.
    const incomplete = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null);
    if (incomplete.length > 0) {
      const names = incomplete.map((row) => row.migration_name).join(', ');
      throw new MigrationError(
        'MIGRATION_INCOMPLETE',
        `migration(s) ${names} started but never finished in ${describeTarget(options.databaseUrl)}; ` +
          'inspect the database, then mark the row rolled back (prisma migrate resolve --rolled-back) or finished',
        { migration: incomplete[0]?.migration_name },
      );
    }

    const applied = new Map<string, AppliedRow>();
    for (const row of rows) {
      if (row.finished_at !== null && row.rolled_back_at === null) applied.set(row.migration_name, row);
    }

    const known = new Set(dirs.map((dir) => dir.name));
    for (const name of applied.keys()) {
      if (!known.has(name)) {
        log(
          `db: warning: migration ${name} is applied in the database but missing from ${options.migrationsDir}`,
        );
      }
    }

    const edited = dirs.filter((dir) => {
      const row = applied.get(dir.name);
      return row !== undefined && !scriptMatchesChecksum(dir.script, row.checksum);
    });
    if (edited.length > 0) {
      const names = edited.map((dir) => dir.name).join(', ');
      throw new MigrationError(
        'MIGRATION_CHECKSUM_MISMATCH',
        `migration(s) ${names} were edited after being applied (checksum differs from _prisma_migrations); ` +
          'restore the original migration.sql and put the change in a new migration',
        { migration: edited[0]?.name },
      );
    }

    const result: ApplyMigrationsResult = { applied: [], all: dirs.map((dir) => dir.name) };
    for (const dir of dirs) {
      if (applied.has(dir.name)) continue;
      await applyOne(client, dir);
      result.applied.push(dir.name);
      log(`db: applied migration ${dir.name}`);
    }
    return result;
  } finally {
    if (locked) {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch(() => {});
    }
    await client.end().catch(() => {});
  }
}

async function applyOne(client: pg.Client, dir: MigrationDir): Promise<void> {
  const id = randomUUID();
  const checksum = migrationChecksum(dir.script);
  try {
    await client.query('BEGIN');
    // Prisma: record_migration_started → apply script → record_successful_step → record_migration_finished.
    await client.query(
      `INSERT INTO ${PRISMA_MIGRATIONS_TABLE} (id, checksum, migration_name, started_at)
       VALUES ($1, $2, $3, clock_timestamp())`,
      [id, checksum, dir.name],
    );
    await client.query(dir.script);
    await client.query(
      `UPDATE ${PRISMA_MIGRATIONS_TABLE}
          SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
        WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (cause) {
    await client.query('ROLLBACK').catch(() => {});
    const message = errorText(cause);
    // Keep the attempt in the history, rolled back, like `prisma migrate resolve --rolled-back`.
    await client
      .query(
        `INSERT INTO ${PRISMA_MIGRATIONS_TABLE}
           (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count)
         VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp(), 0)`,
        [id, checksum, dir.name, message],
      )
      .catch(() => {});
    throw new MigrationError(
      'MIGRATION_FAILED',
      `migration ${dir.name} failed and was rolled back: ${message}`,
      {
        migration: dir.name,
        cause,
      },
    );
  }
}
