import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, MigrationError, PRISMA_ADVISORY_LOCK_KEY } from './migrate.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));
const CLI = fileURLToPath(new URL('./migrate-cli.ts', import.meta.url));
const INIT = '20261122000000_init';

function requireDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL must point at a Postgres the tests may create databases in');
  return url;
}

/** Creates an empty database with a random name next to DATABASE_URL's; returns its URL and a dropper. */
async function createFreshDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const baseUrl = requireDatabaseUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function copyMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'maestro-migrations-'));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function expectMigrationError(promise: Promise<unknown>, code: string): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MigrationError);
  expect((error as MigrationError).code).toBe(code);
  return error as MigrationError;
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const tempDirs: string[] = [];
const databases: Array<() => Promise<void>> = [];
let dbUrl = '';

beforeAll(async () => {
  const db = await createFreshDatabase('maestro_migrate_test');
  databases.push(db.drop);
  dbUrl = db.url;
});

afterAll(async () => {
  await Promise.all(databases.map((drop) => drop()));
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('applyMigrations', () => {
  it('applies every migration to a fresh database and records it exactly like Prisma', async () => {
    const lines: string[] = [];
    const result = await applyMigrations({
      databaseUrl: dbUrl,
      migrationsDir: MIGRATIONS_DIR,
      log: (l) => lines.push(l),
    });
    expect(result.applied).toEqual(result.all);
    expect(result.applied[0]).toBe(INIT);
    expect(lines).toContain(`db: applied migration ${INIT}`);

    const tables = await query<{ table_name: string }>(
      dbUrl,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      '_prisma_migrations',
      'audit_events',
      'members',
      'tenants',
    ]);

    // Prisma's own bookkeeping DDL, column for column.
    const columns = await query<{
      column_name: string;
      data_type: string;
      len: number | null;
      is_nullable: string;
      column_default: string | null;
    }>(
      dbUrl,
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', len: 36, is_nullable: 'NO', column_default: null },
      {
        column_name: 'checksum',
        data_type: 'character varying',
        len: 64,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        len: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      { column_name: 'logs', data_type: 'text', len: null, is_nullable: 'YES', column_default: null },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        len: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);

    const rows = await query<MigrationRow>(dbUrl, 'SELECT * FROM _prisma_migrations');
    expect(rows).toHaveLength(result.all.length);
    const init = rows.find((r) => r.migration_name === INIT);
    const script = await readFile(join(MIGRATIONS_DIR, INIT, 'migration.sql'));
    expect(init).toMatchObject({
      checksum: createHash('sha256').update(script).digest('hex'),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(init?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(init?.finished_at).toBeInstanceOf(Date);
    expect(init?.finished_at?.getTime()).toBeGreaterThanOrEqual(init?.started_at.getTime() ?? Number.NaN);
  });

  it('is a no-op when run again', async () => {
    const before = await query<MigrationRow>(dbUrl, 'SELECT * FROM _prisma_migrations ORDER BY id');
    const result = await applyMigrations({ databaseUrl: dbUrl, migrationsDir: MIGRATIONS_DIR });
    expect(result.applied).toEqual([]);
    expect(await query<MigrationRow>(dbUrl, 'SELECT * FROM _prisma_migrations ORDER BY id')).toEqual(before);
  });

  it('detects an applied migration whose file was edited (checksum mismatch)', async () => {
    const dir = await copyMigrations();
    tempDirs.push(dir);
    const file = join(dir, INIT, 'migration.sql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, `${original}\nALTER TABLE "tenants" ADD COLUMN "sneaky" TEXT;\n`);

    const error = await expectMigrationError(
      applyMigrations({ databaseUrl: dbUrl, migrationsDir: dir }),
      'MIGRATION_CHECKSUM_MISMATCH',
    );
    expect(error.migration).toBe(INIT);
    expect(error.message).toContain(INIT);
    const sneaky = await query(
      dbUrl,
      `SELECT 1 FROM information_schema.columns WHERE column_name = 'sneaky'`,
    );
    expect(sneaky).toHaveLength(0);

    // Like Prisma, a pure line-ending change (git autocrlf) is not an edit.
    await writeFile(file, original.replace(/\n/g, '\r\n'));
    expect((await applyMigrations({ databaseUrl: dbUrl, migrationsDir: dir })).applied).toEqual([]);
  });

  it('rolls back a failing migration, records the attempt as rolled back, and applies the fixed file later', async () => {
    const dir = await copyMigrations();
    tempDirs.push(dir);
    const name = '20990101000000_broken';
    await mkdir(join(dir, name));
    await writeFile(
      join(dir, name, 'migration.sql'),
      'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT 1 / 0;\n',
    );

    const error = await expectMigrationError(
      applyMigrations({ databaseUrl: dbUrl, migrationsDir: dir }),
      'MIGRATION_FAILED',
    );
    expect(error.migration).toBe(name);
    expect(error.message).toContain('division by zero');
    expect(await query(dbUrl, `SELECT to_regclass('half_done') AS t`)).toEqual([{ t: null }]);
    const [failed] = await query<MigrationRow>(
      dbUrl,
      'SELECT * FROM _prisma_migrations WHERE migration_name = $1',
      [name],
    );
    expect(failed).toMatchObject({ finished_at: null, applied_steps_count: 0 });
    expect(failed?.rolled_back_at).toBeInstanceOf(Date);
    expect(failed?.logs).toContain('division by zero');

    await writeFile(join(dir, name, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);\n');
    expect((await applyMigrations({ databaseUrl: dbUrl, migrationsDir: dir })).applied).toEqual([name]);
    const rows = await query<MigrationRow>(
      dbUrl,
      'SELECT * FROM _prisma_migrations WHERE migration_name = $1 ORDER BY started_at',
      [name],
    );
    expect(rows.map((r) => [r.rolled_back_at === null, r.finished_at === null])).toEqual([
      [false, true],
      [true, false],
    ]);
    // Leave the shared test database as the real migrations left it.
    await query(dbUrl, 'DROP TABLE "half_done"');
    await query(dbUrl, 'DELETE FROM _prisma_migrations WHERE migration_name = $1', [name]);
  });

  it('refuses to run past a migration Prisma left unfinished', async () => {
    await query(
      dbUrl,
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
      ['00000000-0000-4000-8000-000000000000', '0'.repeat(64), '20990202000000_crashed'],
    );
    try {
      const error = await expectMigrationError(
        applyMigrations({ databaseUrl: dbUrl, migrationsDir: MIGRATIONS_DIR }),
        'MIGRATION_INCOMPLETE',
      );
      expect(error.message).toContain('20990202000000_crashed');
    } finally {
      await query(dbUrl, `DELETE FROM _prisma_migrations WHERE migration_name = '20990202000000_crashed'`);
    }
  });

  it('serialises concurrent callers with an advisory lock', async () => {
    const db = await createFreshDatabase('maestro_migrate_concurrent');
    databases.push(db.drop);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        applyMigrations({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR }),
      ),
    );
    const all = results[0]?.all ?? [];
    expect(all.length).toBeGreaterThan(0);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([...all].sort());
    const rows = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM _prisma_migrations');
    expect(Number(rows[0]?.n)).toBe(all.length);
  });

  it('times out with a coded error when another migrator holds the lock', async () => {
    const holder = new pg.Client({ connectionString: dbUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
      await expectMigrationError(
        applyMigrations({ databaseUrl: dbUrl, migrationsDir: MIGRATIONS_DIR, lockTimeoutMs: 200 }),
        'MIGRATION_LOCK_TIMEOUT',
      );
    } finally {
      await holder.end();
    }
  });

  it('rejects a migrations folder locked to another provider', async () => {
    const dir = await copyMigrations();
    tempDirs.push(dir);
    await writeFile(join(dir, 'migration_lock.toml'), 'provider = "mysql"\n');
    await expectMigrationError(
      applyMigrations({ databaseUrl: dbUrl, migrationsDir: dir }),
      'MIGRATION_DIR_INVALID',
    );
  });

  it('fails with DB_UNREACHABLE naming host:port when nothing listens', async () => {
    const port = await unusedPort();
    const error = await expectMigrationError(
      applyMigrations({
        databaseUrl: `postgresql://maestro:secret@127.0.0.1:${port}/maestro`,
        migrationsDir: MIGRATIONS_DIR,
      }),
      'DB_UNREACHABLE',
    );
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).not.toContain('secret');
  });
});

describe('migrate-cli', () => {
  const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
  const run = (databaseUrl: string) =>
    spawnSync(process.execPath, [tsxCli, CLI], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('prints "db: up to date" on a migrated database', () => {
    const result = run(dbUrl);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('db: up to date');
    expect(result.status).toBe(0);
  });

  it('exits non-zero with one line naming host:port when the database is unreachable', async () => {
    const port = await unusedPort();
    const result = run(`postgresql://maestro:maestro@127.0.0.1:${port}/maestro`);
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`127.0.0.1:${port}`);
  });
});
