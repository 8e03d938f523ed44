import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generate, staleFiles } from './generate.ts';
import { backingIndex, snake } from './model.ts';
import { dropStatement, statement } from './render.ts';
import { GraphSpecError, loadSpec, parseSpec, REPO_ROOT, SPEC_FILE, validateSpec } from './spec.ts';

const model = loadSpec();
const labels = model.entities.map((e) => e.label);
const CONTRACT = join(REPO_ROOT, '../shared/contract/schema.graphql');
const contract: GraphQLSchema | undefined = existsSync(CONTRACT)
  ? buildSchema(readFileSync(CONTRACT, 'utf8'))
  : undefined;

describe('generated files', () => {
  it('match graph.yaml (run `npm run generate -w @maestro/graph-schema` when this fails)', () => {
    expect(staleFiles(generate(model))).toEqual([]);
  });

  it('keep every statement the hand-written migration already applied to existing databases (or retire it by name)', () => {
    const statements = model.schemaObjects.map(statement);
    const retired = new Set(model.retired.map((r) => r.name));
    for (const applied of [
      'CREATE CONSTRAINT tenant_id IF NOT EXISTS FOR (n:Tenant) REQUIRE n.id IS UNIQUE',
      'CREATE CONSTRAINT user_scope_subject IF NOT EXISTS FOR (n:User) REQUIRE (n.tenantId, n.subject) IS UNIQUE',
      'CREATE CONSTRAINT workflow_id IF NOT EXISTS FOR (n:Workflow) REQUIRE n.id IS UNIQUE',
      'CREATE CONSTRAINT workflow_scope_name IF NOT EXISTS FOR (n:Workflow) REQUIRE (n.tenantId, n.environment, n.region, n.name) IS UNIQUE',
      'CREATE CONSTRAINT workflow_version_id IF NOT EXISTS FOR (n:WorkflowVersion) REQUIRE n.id IS UNIQUE',
      'CREATE CONSTRAINT workflow_version_scope IF NOT EXISTS FOR (n:WorkflowVersion) REQUIRE (n.tenantId, n.environment, n.region, n.workflowName, n.version) IS UNIQUE',
      'CREATE CONSTRAINT run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.id IS UNIQUE',
      'CREATE INDEX run_scope_created IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.environment, n.region, n.createdAt)',
      'CREATE INDEX run_scope_status IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.environment, n.region, n.status)',
      'CREATE INDEX run_scope_workflow_name IF NOT EXISTS FOR (n:Run) ON (n.tenantId, n.environment, n.region, n.workflowName)',
    ]) {
      const name = /^CREATE (?:CONSTRAINT|INDEX) (\w+)/.exec(applied)?.[1] ?? '';
      if (retired.has(name)) {
        expect(
          statements.some((s) => s.includes(` ${name} `)),
          `${name} is retired and defined`,
        ).toBe(false);
      } else {
        expect(statements).toContain(applied);
      }
    }
  });

  it('retire replaced indexes with DROP … IF EXISTS, after the current ones', () => {
    expect(model.retired.map(dropStatement)).toEqual(
      expect.arrayContaining([
        'DROP INDEX run_scope_status IF EXISTS',
        'DROP INDEX run_scope_workflow_name IF EXISTS',
      ]),
    );
    // Their replacements give the runs list its createdAt order (ADR 0006).
    for (const on of [['workflowName'], ['status'], ['workflowName', 'status']]) {
      expect(backingIndex(model, 'Run', [...on, 'createdAt'])?.properties).toEqual([
        'tenantId',
        'environment',
        'region',
        ...on,
        'createdAt',
      ]);
    }
  });

  it('emit only named, idempotent statements that Neo4j Community edition accepts', () => {
    const names = new Set<string>();
    for (const s of model.schemaObjects.map(statement)) {
      const name = /^CREATE (?:CONSTRAINT|INDEX) ([a-z][a-z0-9_]*) IF NOT EXISTS FOR \(n:[A-Za-z]+\) /.exec(
        s,
      )?.[1];
      expect(name, s).toBeDefined();
      expect(names.has(name ?? ''), `duplicate name in ${s}`).toBe(false);
      names.add(name ?? '');
      expect(s).not.toMatch(/NODE KEY|IS NOT NULL|IS NODE KEY|IS TYPED/);
    }
    for (const label of labels) expect(names).toContain(`${snake(label)}_id`);
  });
});

describe('graph.yaml', () => {
  it('scopes every node: environment-scoped labels carry tenantId/environment/region, Tenant and User tenantId', () => {
    for (const e of model.entities) {
      const names = e.properties.map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['id', 'tenantId', 'createdAt']));
      const tenantWide = e.label === 'Tenant' || e.label === 'User';
      expect(e.scopeKeys, e.label).toEqual(tenantWide ? ['tenantId'] : ['tenantId', 'environment', 'region']);
      for (const key of e.scopeKeys) expect(names, e.label).toContain(key);
    }
  });

  it('has edges between declared labels only', () => {
    expect(model.edges.length).toBeGreaterThan(0);
    for (const edge of model.edges) {
      for (const label of [...edge.from, ...edge.to])
        expect(labels, `${edge.type} → ${label}`).toContain(label);
    }
  });

  it('makes Run.idempotencyKey unique per tenant and indexes Task.idempotencyKey', () => {
    expect(model.schemaObjects).toContainEqual(
      expect.objectContaining({ kind: 'unique', label: 'Run', properties: ['tenantId', 'idempotencyKey'] }),
    );
    expect(backingIndex(model, 'Task', ['idempotencyKey'])).toBeDefined();
    expect(backingIndex(model, 'TimelineEvent', ['runId', 'seq'])).toMatchObject({ kind: 'unique' });
  });
});

describe.skipIf(!contract)(
  contract ? 'the GraphQL contract' : `the GraphQL contract (SKIPPED: ${CONTRACT} not found)`,
  () => {
    const schema = contract as GraphQLSchema;

    it('backs every field of every *Filter input with an index', () => {
      const filters = Object.values(schema.getTypeMap()).filter(
        (t) => isInputObjectType(t) && t.name.endsWith('Filter'),
      );
      expect(filters.map((f) => f.name)).toEqual(
        expect.arrayContaining(['RunFilter', 'PolicyDecisionFilter', 'ApprovalFilter']),
      );
      for (const input of filters) {
        if (!isInputObjectType(input)) continue;
        const mapping = model.api.filters[input.name];
        expect(mapping, `graph.yaml api.filters has no ${input.name}`).toBeDefined();
        if (!mapping) continue;
        for (const field of Object.keys(input.getFields())) {
          if (field in mapping.computed) continue;
          const property = mapping.fields[field];
          expect(property, `api.filters.${input.name} maps no property for '${field}'`).toBeDefined();
          const index = backingIndex(model, mapping.entity, [property ?? '']);
          expect(index, `${input.name}.${field} → ${mapping.entity}.${property} has no index`).toBeDefined();
        }
        for (const field of [...Object.keys(mapping.fields), ...Object.keys(mapping.computed)]) {
          expect(
            input.getFields(),
            `api.filters.${input.name}.${field} is not in the contract`,
          ).toHaveProperty(field);
        }
      }
    });

    it('uses the contract enum values for statuses and verdicts', () => {
      for (const name of ['RunStatus', 'TaskStatus', 'ApprovalStatus', 'Verdict']) {
        const type = schema.getType(name);
        expect(isEnumType(type), name).toBe(true);
        if (isEnumType(type)) expect(model.enums[name]).toEqual(type.getValues().map((v) => v.value));
      }
    });

    it('stores every scalar field the contract exposes on an entity, with a compatible type', () => {
      for (const entity of model.entities) {
        const type = schema.getType(entity.label);
        if (!isObjectType(type)) continue;
        for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
          const expected = storageType(field.type);
          if (!expected) continue; // an object or connection: an edge, not a property
          const property = entity.properties.find((p) => p.name === field.name);
          const where = `${entity.label}.${field.name}`;
          expect(property, `${where} is in the contract but not in graph.yaml`).toBeDefined();
          expect({ type: property?.type, enum: property?.enum }, where).toEqual(expected);
          if (isNonNullType(field.type)) expect(property?.required, `${where} is non-null`).toBe(true);
        }
      }
    });
  },
);

/** The graph.yaml type a scalar/enum contract field is stored as; undefined for object fields. */
function storageType(type: GraphQLOutputType): { type: string; enum: string | undefined } | undefined {
  const inner = isNonNullType(type) ? type.ofType : type;
  const named = getNamedType(type);
  if (isEnumType(named)) return isListType(inner) ? undefined : { type: 'string', enum: named.name };
  if (!isScalarType(named)) return undefined;
  const scalar: Record<string, string> = {
    ID: 'string',
    String: 'string',
    Int: 'int',
    Float: 'float',
    Boolean: 'boolean',
    DateTime: 'datetime',
    JSON: 'json',
  };
  if (isListType(inner)) return named.name === 'String' ? { type: 'string[]', enum: undefined } : undefined;
  const mapped = scalar[named.name];
  return mapped ? { type: mapped, enum: undefined } : undefined;
}

describe('a broken spec is rejected with the path of the problem', () => {
  type Node = Record<string, unknown>;
  const text = readFileSync(SPEC_FILE, 'utf8');
  /** A fresh, mutable copy of graph.yaml; `at(spec, 'a.b.c')` walks into it. */
  const fresh = (): unknown => parse(text);
  const at = (tree: unknown, path: string): Node =>
    path.split('.').reduce((t, k) => (t as Node)[k], tree) as Node;
  const rejects = (build: () => unknown, path: string, message: RegExp) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraphSpecError);
    const line = (error as Error).message.split('\n').find((l) => l.includes(`- ${path}: `));
    expect(line, `no issue at ${path} in:\n${(error as Error).message}`).toBeDefined();
    expect(line).toMatch(message);
  };

  it('accepts the real spec text', () => {
    expect(parseSpec(text).entities).toHaveLength(model.entities.length);
  });

  it('an edge to an unknown label', () => {
    const spec = fresh();
    at(spec, 'edges.GATES').to = ['Run', 'Pipeline'];
    rejects(() => validateSpec(spec), 'edges.GATES.to', /unknown label 'Pipeline'/);
  });

  it('an attribute declared twice', () => {
    const line = '      status: { type: string, enum: RunStatus, required: true }\n';
    expect(text).toContain(line);
    const twice = text.replace(line, `${line}      status: { type: string }\n`);
    rejects(() => parseSpec(twice), 'entities.Run.properties.status', /duplicate key 'status'/);
  });

  it('an attribute that repeats a base property', () => {
    const spec = fresh();
    at(spec, 'entities.Run.properties').createdAt = { type: 'datetime' };
    rejects(() => validateSpec(spec), 'entities.Run.properties.createdAt', /duplicate attribute 'createdAt'/);
  });

  it('an unknown property type or key', () => {
    const spec = fresh();
    at(spec, 'entities.Run.properties.costUSD').type = 'decimal';
    at(spec, 'entities.Run.properties.version').uniq = true;
    rejects(() => validateSpec(spec), 'entities.Run.properties.costUSD.type', /Invalid option/);
    rejects(() => validateSpec(spec), 'entities.Run.properties.version', /unknown key 'uniq'/);
  });

  it('an unknown enum', () => {
    const spec = fresh();
    at(spec, 'entities.Run.properties.status').enum = 'RunState';
    rejects(() => validateSpec(spec), 'entities.Run.properties.status.enum', /unknown enum 'RunState'/);
  });

  it('an index on an unknown property, or a name used twice', () => {
    const spec = fresh();
    const indexes = at(spec, 'entities.Run').indexes as unknown[];
    const n = indexes.length;
    indexes.push({ on: ['tenantId', 'finishedOn'] }, { on: ['finishedAt'], name: 'run_scope_created' });
    rejects(
      () => validateSpec(spec),
      `entities.Run.indexes[${n}].on[1]`,
      /unknown property 'finishedOn' of Run/,
    );
    rejects(
      () => validateSpec(spec),
      `entities.Run.indexes[${n + 1}]`,
      /name 'run_scope_created' is already used/,
    );
  });

  it('an API filter no index serves', () => {
    const spec = fresh();
    delete at(spec, 'entities.PolicyDecision.properties.action').indexed;
    rejects(
      () => validateSpec(spec),
      'api.filters.PolicyDecisionFilter.fields.action',
      /no index serves PolicyDecision\(action\)/,
    );
  });

  it('a retired name that is still defined, or retired twice', () => {
    const spec = fresh();
    (at(spec, 'retired') as unknown as unknown[]).push(
      { name: 'run_scope_created', kind: 'index', why: 'oops' },
      { name: 'run_scope_status', kind: 'index', why: 'again' },
    );
    rejects(() => validateSpec(spec), 'retired[2].name', /'run_scope_created' is retired but still defined/);
    rejects(() => validateSpec(spec), 'retired[3].name', /'run_scope_status' is retired twice/);
  });
});
