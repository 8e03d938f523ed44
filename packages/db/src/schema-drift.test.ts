/**
 * schema.prisma and the migrated database must agree.
 *
 * `prisma migrate diff` needs the schema engine, which cannot be downloaded here, so this
 * test does the comparison itself: it loads the DMMF of prisma/schema.prisma with the
 * Wasm build of Prisma's schema parser (@prisma/prisma-schema-wasm, offline), applies
 * prisma/migrations to a fresh database, introspects it through pg_catalog /
 * information_schema, and diffs the two shapes: tables, columns (type, nullability,
 * default), primary keys, unique and plain indexes, foreign keys and enums. Constraint
 * names follow Prisma's conventions (`<table>_pkey`, `<table>_<cols>_key`,
 * `<table>_<cols>_idx`, `<table>_<cols>_fkey`) unless the schema maps them.
 *
 * Limitation: the DMMF does not expose `map:` on @relation, so a custom foreign-key name
 * would be reported as drift; extend `expectedShape` if the schema ever uses one.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { get_dmmf } from '@prisma/prisma-schema-wasm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from './migrate.ts';

const SCHEMA_FILE = fileURLToPath(new URL('../../../prisma/schema.prisma', import.meta.url));
const MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));
const MAX_IDENTIFIER = 63; // PostgreSQL NAMEDATALEN - 1

// ---------------------------------------------------------------------------------------
// The comparable shape of a database schema.

type DefaultShape =
  | { kind: 'none' }
  | { kind: 'autoincrement' }
  | { kind: 'now' }
  | { kind: 'expression'; sql?: string }
  | { kind: 'value'; value: string };

interface ColumnShape {
  type: string;
  nullable: boolean;
  default: DefaultShape;
}

interface IndexShape {
  unique: boolean;
  method: string;
  columns: string[];
}

interface ForeignKeyShape {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

interface TableShape {
  columns: Map<string, ColumnShape>;
  primaryKey: { name: string; columns: string[] } | null;
  indexes: Map<string, IndexShape>;
  foreignKeys: Map<string, ForeignKeyShape>;
}

interface SchemaShape {
  enums: Map<string, string[]>;
  tables: Map<string, TableShape>;
}

function emptyTable(): TableShape {
  return { columns: new Map(), primaryKey: null, indexes: new Map(), foreignKeys: new Map() };
}

// ---------------------------------------------------------------------------------------
// Expected shape, from the DMMF.

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  algorithm?: string;
  fields: Array<{ name: string; sortOrder?: 'asc' | 'desc' }>;
}

interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: Array<{ name: string; dbName?: string | null }>;
}

interface Dmmf {
  datamodel: { models: DmmfModel[]; enums: DmmfEnum[]; indexes: DmmfIndex[] };
}

function loadDmmf(schemaText: string): Dmmf {
  return JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: schemaText }))) as Dmmf;
}

/** Prisma's default constraint/index name: `<table>_<columns>` cut to fit, plus the suffix. */
function prismaName(table: string, columns: string[], suffix: string): string {
  const base = columns.length === 0 ? table : `${table}_${columns.join('_')}`;
  return `${base.slice(0, MAX_IDENTIFIER - suffix.length)}${suffix}`;
}

/** @db.X(args) → canonical udt form (information_schema udt_name plus length/precision). */
const NATIVE_TYPES: Record<string, (n: number[]) => string> = {
  Text: () => 'text',
  VarChar: (n) => (n.length ? `varchar(${n[0]})` : 'varchar'),
  Char: (n) => `bpchar(${n[0] ?? 1})`,
  Uuid: () => 'uuid',
  Xml: () => 'xml',
  Inet: () => 'inet',
  Citext: () => 'citext',
  Bit: (n) => `bit(${n[0] ?? 1})`,
  VarBit: (n) => (n.length ? `varbit(${n[0]})` : 'varbit'),
  SmallInt: () => 'int2',
  Integer: () => 'int4',
  BigInt: () => 'int8',
  Oid: () => 'oid',
  Real: () => 'float4',
  DoublePrecision: () => 'float8',
  Decimal: (n) => (n.length ? `numeric(${n[0]},${n[1] ?? 0})` : 'numeric'),
  Money: () => 'money',
  Boolean: () => 'bool',
  Date: () => 'date',
  Timestamp: (n) => `timestamp(${n[0] ?? 6})`,
  Timestamptz: (n) => `timestamptz(${n[0] ?? 6})`,
  Time: (n) => `time(${n[0] ?? 6})`,
  Timetz: (n) => `timetz(${n[0] ?? 6})`,
  Json: () => 'json',
  JsonB: () => 'jsonb',
  ByteA: () => 'bytea',
};

/** Prisma scalars without @db.X → their PostgreSQL default type. */
const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'int4',
  BigInt: 'int8',
  Float: 'float8',
  Decimal: 'numeric(65,30)',
  Boolean: 'bool',
  DateTime: 'timestamp(3)',
  Json: 'jsonb',
  Bytes: 'bytea',
};

/** Prisma scalar (+ optional @db native type) → canonical information_schema udt form. */
function expectedType(field: DmmfField, enumNames: Map<string, string>): string {
  let udt: string;
  if (field.kind === 'enum') {
    udt = enumNames.get(field.type) ?? field.type;
  } else if (field.nativeType) {
    const [native, args] = field.nativeType;
    const render = NATIVE_TYPES[native];
    if (render === undefined) throw new Error(`drift test: map native type @db.${native} in NATIVE_TYPES`);
    udt = render(args.map(Number));
  } else {
    const mapped = SCALAR_TYPES[field.type];
    if (mapped === undefined) throw new Error(`drift test: map Prisma type ${field.type} in SCALAR_TYPES`);
    udt = mapped;
  }
  // information_schema reports arrays by element udt only (no length/precision).
  return field.isList ? `_${udt.replace(/\(.*\)$/, '')}` : udt;
}

function expectedDefault(field: DmmfField, enums: Map<string, DmmfEnum>): DefaultShape {
  const value = field.default;
  if (value === undefined || value === null) return { kind: 'none' };
  if (Array.isArray(value)) return { kind: 'expression' }; // scalar-list default
  if (typeof value === 'object') {
    const fn = value as { name: string; args: unknown[] };
    switch (fn.name) {
      case 'autoincrement':
        return { kind: 'autoincrement' };
      case 'now':
        return { kind: 'now' };
      case 'dbgenerated':
        return { kind: 'expression', ...(typeof fn.args[0] === 'string' ? { sql: fn.args[0] } : {}) };
      case 'uuid':
      case 'cuid':
      case 'nanoid':
      case 'ulid':
        return { kind: 'none' }; // generated by the client, no column default
      default:
        throw new Error(`drift test: map default function ${fn.name}() in expectedDefault()`);
    }
  }
  if (field.kind === 'enum') {
    const enumValue = enums.get(field.type)?.values.find((v) => v.name === value);
    return { kind: 'value', value: enumValue?.dbName ?? String(value) };
  }
  return { kind: 'value', value: String(value) };
}

const ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

function expectedShape(dmmf: Dmmf): SchemaShape {
  const { models, enums, indexes } = dmmf.datamodel;
  const enumByName = new Map(enums.map((e) => [e.name, e]));
  const enumDbNames = new Map(enums.map((e) => [e.name, e.dbName ?? e.name]));
  const tableOf = new Map(models.map((m) => [m.name, m.dbName ?? m.name]));
  const columnOf = (model: DmmfModel | undefined, field: string): string => {
    const f = model?.fields.find((x) => x.name === field);
    return f?.dbName ?? field;
  };

  const shape: SchemaShape = {
    enums: new Map(enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)])),
    tables: new Map(),
  };

  for (const model of models) {
    const table = model.dbName ?? model.name;
    const t = emptyTable();
    shape.tables.set(table, t);
    for (const field of model.fields) {
      if (field.kind === 'object') {
        const from = field.relationFromFields ?? [];
        if (from.length === 0) continue; // the back-relation side holds no columns
        const target = models.find((m) => m.name === field.type);
        const columns = from.map((f) => columnOf(model, f));
        const allRequired = from.every((f) => model.fields.find((x) => x.name === f)?.isRequired);
        t.foreignKeys.set(prismaName(table, columns, '_fkey'), {
          columns,
          refTable: tableOf.get(field.type) ?? field.type,
          refColumns: (field.relationToFields ?? []).map((f) => columnOf(target, f)),
          onDelete: ACTIONS[field.relationOnDelete ?? (allRequired ? 'Restrict' : 'SetNull')] ?? '?',
          onUpdate: ACTIONS[field.relationOnUpdate ?? 'Cascade'] ?? '?',
        });
        continue;
      }
      if (field.kind === 'unsupported') {
        throw new Error(`drift test: Unsupported(...) field ${model.name}.${field.name} is not handled`);
      }
      t.columns.set(field.dbName ?? field.name, {
        type: expectedType(field, enumDbNames),
        // Prisma renders scalar lists as nullable arrays.
        nullable: field.isList || !field.isRequired,
        default: expectedDefault(field, enumByName),
      });
    }
  }

  for (const index of indexes) {
    const model = models.find((m) => m.name === index.model);
    const table = tableOf.get(index.model) ?? index.model;
    const t = shape.tables.get(table);
    if (t === undefined) throw new Error(`drift test: index on unknown model ${index.model}`);
    const columns = index.fields.map((f) => columnOf(model, f.name));
    if (index.type === 'id') {
      t.primaryKey = { name: index.dbName ?? prismaName(table, [], '_pkey'), columns };
      continue;
    }
    if (index.type === 'fulltext') throw new Error('drift test: fulltext indexes are MySQL-only');
    const unique = index.type === 'unique';
    t.indexes.set(index.dbName ?? prismaName(table, columns, unique ? '_key' : '_idx'), {
      unique,
      method: (index.algorithm ?? 'BTree').toLowerCase(),
      columns: index.fields.map((f, i) => `${columns[i]}${f.sortOrder === 'desc' ? ' DESC' : ''}`),
    });
  }
  return shape;
}

// ---------------------------------------------------------------------------------------
// Actual shape, from the database.

function canonicalDbType(row: {
  data_type: string;
  udt_name: string;
  character_maximum_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  datetime_precision: number | null;
}): string {
  const udt = row.udt_name;
  if (udt === 'numeric') {
    return row.numeric_precision === null
      ? 'numeric'
      : `numeric(${row.numeric_precision},${row.numeric_scale ?? 0})`;
  }
  if (['varchar', 'bpchar', 'bit', 'varbit'].includes(udt)) {
    return row.character_maximum_length === null ? udt : `${udt}(${row.character_maximum_length})`;
  }
  if (['timestamp', 'timestamptz', 'time', 'timetz'].includes(udt)) {
    return `${udt}(${row.datetime_precision ?? 6})`;
  }
  return udt;
}

function canonicalDbDefault(sql: string | null): DefaultShape {
  if (sql === null) return { kind: 'none' };
  if (/^nextval\(/i.test(sql)) return { kind: 'autoincrement' };
  if (/^(CURRENT_TIMESTAMP|now\(\))$/i.test(sql)) return { kind: 'now' };
  let s = sql.trim();
  const cast = /::(?:"[^"]+"|[a-z_][\w. ]*)(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?$/i;
  while (cast.test(s)) s = s.replace(cast, '').trim();
  if (/^\(.*\)$/.test(s) && !/^\(.*\)\s*\(/.test(s)) s = s.slice(1, -1).trim();
  const quoted = /^'((?:[^']|'')*)'$/s.exec(s);
  if (quoted) return { kind: 'value', value: (quoted[1] ?? '').replace(/''/g, "'") };
  if (/^-?\d+(\.\d+)?$/.test(s) || s === 'true' || s === 'false') return { kind: 'value', value: s };
  return { kind: 'expression', sql };
}

async function introspect(client: pg.Client): Promise<SchemaShape> {
  const shape: SchemaShape = { enums: new Map(), tables: new Map() };
  const table = (name: string): TableShape => {
    let t = shape.tables.get(name);
    if (!t) {
      t = emptyTable();
      shape.tables.set(name, t);
    }
    return t;
  };

  const enums = await client.query<{ name: string; labels: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_type t
      JOIN pg_enum e ON e.enumtypid = t.oid
      JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = current_schema()
     GROUP BY t.typname`);
  for (const row of enums.rows) shape.enums.set(row.name, row.labels);

  const tables = await client.query<{ table_name: string }>(`
    SELECT table_name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`);
  for (const row of tables.rows) table(row.table_name);

  const columns = await client.query<{
    table_name: string;
    column_name: string;
    is_nullable: 'YES' | 'NO';
    column_default: string | null;
    data_type: string;
    udt_name: string;
    character_maximum_length: number | null;
    numeric_precision: number | null;
    numeric_scale: number | null;
    datetime_precision: number | null;
  }>(`
    SELECT table_name, column_name, is_nullable, column_default, data_type, udt_name,
           character_maximum_length, numeric_precision, numeric_scale, datetime_precision
      FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name <> '_prisma_migrations'`);
  for (const row of columns.rows) {
    if (!shape.tables.has(row.table_name)) continue; // views
    table(row.table_name).columns.set(row.column_name, {
      type: canonicalDbType(row),
      nullable: row.is_nullable === 'YES',
      default: canonicalDbDefault(row.column_default),
    });
  }

  const indexes = await client.query<{
    table_name: string;
    index_name: string;
    is_unique: boolean;
    is_primary: boolean;
    method: string;
    columns: string[];
  }>(`
    SELECT t.relname AS table_name, i.relname AS index_name, ix.indisunique AS is_unique,
           ix.indisprimary AS is_primary, am.amname AS method,
           ARRAY(
             SELECT a.attname::text || CASE WHEN (ix.indoption[k.ord - 1] & 1) = 1 THEN ' DESC' ELSE '' END
               FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
              ORDER BY k.ord
           ) AS columns
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_am am ON am.oid = i.relam
     WHERE n.nspname = current_schema() AND t.relname <> '_prisma_migrations'`);
  for (const row of indexes.rows) {
    const t = table(row.table_name);
    if (row.is_primary) {
      t.primaryKey = { name: row.index_name, columns: row.columns };
    } else {
      t.indexes.set(row.index_name, { unique: row.is_unique, method: row.method, columns: row.columns });
    }
  }

  const fks = await client.query<{
    table_name: string;
    name: string;
    ref_table: string;
    columns: string[];
    ref_columns: string[];
    on_delete: string;
    on_update: string;
  }>(`
    SELECT t.relname AS table_name, con.conname AS name, rt.relname AS ref_table,
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns,
           con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_class rt ON rt.oid = con.confrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE con.contype = 'f' AND n.nspname = current_schema()`);
  const action: Record<string, string> = {
    a: 'NO ACTION',
    r: 'RESTRICT',
    c: 'CASCADE',
    n: 'SET NULL',
    d: 'SET DEFAULT',
  };
  for (const row of fks.rows) {
    table(row.table_name).foreignKeys.set(row.name, {
      columns: row.columns,
      refTable: row.ref_table,
      refColumns: row.ref_columns,
      onDelete: action[row.on_delete] ?? row.on_delete,
      onUpdate: action[row.on_update] ?? row.on_update,
    });
  }
  return shape;
}

// ---------------------------------------------------------------------------------------
// The diff: one human-readable line per disagreement; empty when they agree.

function defaultsAgree(expected: DefaultShape, actual: DefaultShape): boolean {
  if (expected.kind === 'expression') return actual.kind !== 'none'; // dbgenerated(): presence only
  if (expected.kind !== actual.kind) return false;
  if (expected.kind === 'value' && actual.kind === 'value') {
    const a = Number(expected.value);
    const b = Number(actual.value);
    if (expected.value.trim() !== '' && !Number.isNaN(a) && !Number.isNaN(b)) return a === b;
    return expected.value === actual.value;
  }
  return true;
}

function describeDefault(d: DefaultShape): string {
  if (d.kind === 'value') return `value ${JSON.stringify(d.value)}`;
  if (d.kind === 'expression') return d.sql === undefined ? 'expression' : `expression ${d.sql}`;
  return d.kind;
}

function compareKeys<T>(
  where: string,
  expected: Map<string, T>,
  actual: Map<string, T>,
  compare: (name: string, e: T, a: T) => string[],
): string[] {
  const out: string[] = [];
  for (const [name, e] of expected) {
    const a = actual.get(name);
    if (a === undefined) out.push(`${where}${name}: in schema.prisma but missing in the database`);
    else out.push(...compare(name, e, a));
  }
  for (const name of actual.keys()) {
    if (!expected.has(name)) out.push(`${where}${name}: in the database but not in schema.prisma`);
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function diffShapes(expected: SchemaShape, actual: SchemaShape): string[] {
  const out: string[] = [];
  out.push(
    ...compareKeys('enum ', expected.enums, actual.enums, (name, e, a) =>
      same(e, a)
        ? []
        : [
            `enum ${name}: values ${JSON.stringify(e)} in schema.prisma, ${JSON.stringify(a)} in the database`,
          ],
    ),
  );
  out.push(
    ...compareKeys('table ', expected.tables, actual.tables, (table, e, a) => {
      const lines: string[] = [];
      lines.push(
        ...compareKeys(`${table}.`, e.columns, a.columns, (column, ec, ac) => {
          const l: string[] = [];
          if (ec.type !== ac.type)
            l.push(`${table}.${column}: type ${ec.type} in schema.prisma, ${ac.type} in the database`);
          if (ec.nullable !== ac.nullable) {
            l.push(
              `${table}.${column}: ${ec.nullable ? 'nullable' : 'NOT NULL'} in schema.prisma, ${ac.nullable ? 'nullable' : 'NOT NULL'} in the database`,
            );
          }
          if (!defaultsAgree(ec.default, ac.default)) {
            l.push(
              `${table}.${column}: default ${describeDefault(ec.default)} in schema.prisma, ${describeDefault(ac.default)} in the database`,
            );
          }
          return l;
        }),
      );
      if (!same(e.primaryKey, a.primaryKey)) {
        lines.push(
          `${table}: primary key ${JSON.stringify(e.primaryKey)} in schema.prisma, ${JSON.stringify(a.primaryKey)} in the database`,
        );
      }
      lines.push(
        ...compareKeys(`${table} index `, e.indexes, a.indexes, (name, ei, ai) =>
          same(ei, ai)
            ? []
            : [
                `${table} index ${name}: ${JSON.stringify(ei)} in schema.prisma, ${JSON.stringify(ai)} in the database`,
              ],
        ),
      );
      lines.push(
        ...compareKeys(`${table} foreign key `, e.foreignKeys, a.foreignKeys, (name, ef, af) =>
          same(ef, af)
            ? []
            : [
                `${table} foreign key ${name}: ${JSON.stringify(ef)} in schema.prisma, ${JSON.stringify(af)} in the database`,
              ],
        ),
      );
      return lines;
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------
// Tests.

let databaseUrl = '';
let dropDatabase: () => Promise<void> = async () => {};
let client: pg.Client;
let schemaText = '';
let migrated: SchemaShape;

beforeAll(async () => {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('DATABASE_URL must point at a Postgres the tests may create databases in');
  const name = `maestro_drift_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`).finally(() => admin.end());
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
  dropDatabase = async () => {
    const c = new pg.Client({ connectionString: baseUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => c.end());
  };

  await applyMigrations({ databaseUrl, migrationsDir: MIGRATIONS_DIR });
  client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  schemaText = await readFile(SCHEMA_FILE, 'utf8');
  migrated = await introspect(client);
});

afterAll(async () => {
  await client?.end();
  await dropDatabase();
});

describe('schema.prisma vs prisma/migrations', () => {
  it('agree on every table, column, type, default, key, index, foreign key and enum', () => {
    const expected = expectedShape(loadDmmf(schemaText));
    expect([...expected.tables.keys()].sort()).toEqual(['audit_events', 'members', 'tenants']);
    expect(diffShapes(expected, migrated)).toEqual([]);
  });

  it('sees the details it is meant to compare', () => {
    // Guards against a comparison that silently compares nothing.
    const tenants = migrated.tables.get('tenants');
    expect(tenants?.columns.get('daily_budget_usd')).toEqual({
      type: 'numeric(12,4)',
      nullable: false,
      default: { kind: 'value', value: '100' },
    });
    expect(tenants?.columns.get('created_at')?.type).toBe('timestamptz(3)');
    expect(tenants?.indexes.get('tenants_name_key')).toEqual({
      unique: true,
      method: 'btree',
      columns: ['name'],
    });
    expect(migrated.tables.get('members')?.foreignKeys.get('members_tenant_id_fkey')).toEqual({
      columns: ['tenant_id'],
      refTable: 'tenants',
      refColumns: ['id'],
      onDelete: 'CASCADE',
      onUpdate: 'CASCADE',
    });
    expect(migrated.tables.get('audit_events')?.columns.get('id')).toEqual({
      type: 'int8',
      nullable: false,
      default: { kind: 'autoincrement' },
    });
    expect(migrated.enums.get('member_role')).toEqual(['admin', 'operator', 'composer', 'viewer']);
  });

  // Each edit is what someone might do to schema.prisma while forgetting the migration.
  const mutations: Array<[string, string, string, string]> = [
    [
      'a new field',
      '  maxConcurrentRuns Int      @default(25) @map("max_concurrent_runs")\n',
      '  maxConcurrentRuns Int      @default(25) @map("max_concurrent_runs")\n  region String @default("eu")\n',
      'tenants.region: in schema.prisma but missing in the database',
    ],
    [
      'a changed precision',
      '@db.Decimal(12, 4)',
      '@db.Decimal(14, 4)',
      'tenants.daily_budget_usd: type numeric(14,4)',
    ],
    ['a changed default', '@default(0.8)', '@default(0.9)', 'tenants.alert_threshold: default value "0.9"'],
    [
      'a field made required',
      'subjectId String?',
      'subjectId String ',
      'audit_events.subject_id: NOT NULL in schema.prisma',
    ],
    ['a renamed column', '@map("prev_hash")', '@map("previous_hash")', 'audit_events.previous_hash'],
    [
      'a new index',
      '  @@index([tenantId, at])\n',
      '  @@index([tenantId, at])\n  @@index([type])\n',
      'audit_events index audit_events_type_idx',
    ],
    [
      'a dropped unique',
      '  @@unique([tenantId, seq])\n',
      '',
      'audit_events index audit_events_tenant_id_seq_key: in the database but not in schema.prisma',
    ],
    [
      'a changed referential action',
      ', onDelete: Cascade)',
      ')',
      'members foreign key members_tenant_id_fkey',
    ],
    ['a new enum value', '  viewer\n', '  viewer\n  auditor\n', 'enum member_role'],
    [
      'a new model',
      'enum MemberRole {',
      'model Region {\n  id String @id\n\n  @@map("regions")\n}\n\nenum MemberRole {',
      'table regions: in schema.prisma but missing in the database',
    ],
  ];

  it.each(mutations)('reports drift for %s', (_label, from, to, expectedLine) => {
    expect(schemaText).toContain(from);
    const mutated = schemaText.replace(from, to);
    expect(mutated).not.toBe(schemaText);
    const diff = diffShapes(expectedShape(loadDmmf(mutated)), migrated);
    expect(diff.length).toBeGreaterThan(0);
    expect(diff.join('\n')).toContain(expectedLine);
  });

  it('reports drift for a database change that schema.prisma lacks', async () => {
    await client.query('BEGIN');
    try {
      await client.query('ALTER TABLE "members" ADD COLUMN "nickname" TEXT');
      await client.query('CREATE INDEX "members_role_idx" ON "members"("role")');
      const diff = diffShapes(expectedShape(loadDmmf(schemaText)), await introspect(client));
      expect(diff).toEqual([
        'members.nickname: in the database but not in schema.prisma',
        'members index members_role_idx: in the database but not in schema.prisma',
      ]);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
