import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { buildModel, formatPath, type GraphModel, type Issue } from './model.ts';

/** The repository root (graph-schema/src → ../..). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const SPEC_FILE = join(REPO_ROOT, 'graph-schema/graph.yaml');

export const PROPERTY_TYPES = ['string', 'int', 'float', 'boolean', 'datetime', 'json', 'string[]'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

const label = z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'a label is PascalCase (e.g. WorkflowVersion)');
const labels = z.union([label, z.array(label).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));
const propertyName = z
  .string()
  .regex(/^[a-z][A-Za-z0-9]*$/, 'a property name is camelCase ASCII (e.g. createdAt)');
const schemaName = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'a constraint/index name is snake_case (e.g. run_scope_status)');
const text = z.string().min(1);

/** `unique: true` means per tenant; `indexed: true` means inside the node's scope. */
const uniqueFlag = z
  .union([z.boolean(), z.enum(['tenant', 'scope', 'global'])])
  .transform((v) => (v === true ? 'tenant' : v === false ? undefined : v));
const indexedFlag = z
  .union([z.boolean(), z.enum(['tenant', 'scope', 'global'])])
  .transform((v) => (v === true ? 'scope' : v === false ? undefined : v));

const propertySchema = z.strictObject({
  type: z.enum(PROPERTY_TYPES),
  required: z.boolean().default(false),
  enum: z.string().optional(),
  unique: uniqueFlag.optional(),
  indexed: indexedFlag.optional(),
  description: text.optional(),
});

const indexSchema = z.strictObject({
  on: z.array(propertyName).min(1),
  unique: z.boolean().default(false),
  name: schemaName.optional(),
  why: text.optional(),
});

const entitySchema = z.strictObject({
  scope: z.string(),
  description: text,
  properties: z.record(propertyName, propertySchema).default({}),
  indexes: z.array(indexSchema).default([]),
});

const edgePropertySchema = z.strictObject({
  type: z.enum(PROPERTY_TYPES),
  required: z.boolean().default(false),
  /** Required only on edges whose start node has one of these labels. */
  requiredFor: z.array(label).optional(),
  enum: z.string().optional(),
  description: text.optional(),
});

const edgeSchema = z.strictObject({
  from: labels,
  to: labels,
  cardinality: z.enum(['one-to-one', 'one-to-many', 'many-to-one', 'many-to-many']),
  required: z.enum(['from', 'to', 'both', 'none']).default('none'),
  description: text.optional(),
  properties: z.record(propertyName, edgePropertySchema).default({}),
});

const lookupSchema = z.strictObject({
  entity: label,
  on: z.array(propertyName).min(1),
  scoped: z.boolean().default(true),
  why: text,
});

/** A constraint or index that an earlier graph.yaml created and this one no longer wants. */
const retiredSchema = z.strictObject({
  name: schemaName,
  kind: z.enum(['unique', 'index']),
  why: text,
});

const filterSchema = z.strictObject({
  entity: label,
  fields: z.record(z.string(), propertyName).default({}),
  computed: z.record(z.string(), text).default({}),
});

export const specSchema = z.strictObject({
  version: z.literal(1),
  scopes: z
    .record(
      z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'a scope name is camelCase'),
      z.strictObject({ description: text, keys: z.array(propertyName).min(1) }),
    )
    .refine((s) => Object.keys(s).length > 0, 'declare at least one scope'),
  base: z.record(propertyName, propertySchema),
  enums: z.record(
    z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'an enum name is PascalCase'),
    z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an enum value is an identifier')).min(1),
  ),
  entities: z.record(label, entitySchema),
  edges: z.record(
    z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an edge type is UPPER_SNAKE_CASE (e.g. HAS_TASK)'),
    edgeSchema,
  ),
  api: z
    .strictObject({
      filters: z.record(z.string(), filterSchema).default({}),
      lookups: z.array(lookupSchema).default([]),
    })
    .default({ filters: {}, lookups: [] }),
  /** Dropped (IF EXISTS) after the current constraints and indexes are created. */
  retired: z.array(retiredSchema).default([]),
});

export type Spec = z.output<typeof specSchema>;
export type PropertySpec = z.output<typeof propertySchema>;
export type EdgePropertySpec = z.output<typeof edgePropertySchema>;
export type RetiredSpec = z.output<typeof retiredSchema>;

/** A spec that fails validation; the message lists every problem with its path in the YAML. */
export class GraphSpecError extends Error {
  override readonly name = 'GraphSpecError';
  constructor(
    readonly source: string,
    readonly issues: readonly Issue[],
  ) {
    super(
      `${source} is not a valid graph spec:\n${issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join('\n')}`,
    );
  }
}

/** Reads, validates and resolves graph.yaml. Throws GraphSpecError naming each bad path. */
export function loadSpec(file: string = SPEC_FILE): GraphModel {
  return parseSpec(
    readFileSync(file, 'utf8'),
    file.startsWith(REPO_ROOT) ? file.slice(REPO_ROOT.length + 1) : file,
  );
}

/** Validates spec text (YAML) and resolves it into the model the generator renders. */
export function parseSpec(source: string, sourceName = 'graph.yaml'): GraphModel {
  const lines = new LineCounter();
  // Duplicate keys are detected below with their path, instead of the parser's bare message.
  const doc = parseDocument(source, { uniqueKeys: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new GraphSpecError(
      sourceName,
      doc.errors.map((e) => ({ path: [`line ${e.linePos?.[0].line ?? '?'}`], message: e.message })),
    );
  }
  const duplicates = findDuplicateKeys(doc.contents, [], lines);
  if (duplicates.length > 0) throw new GraphSpecError(sourceName, duplicates);
  return validateSpec(doc.toJS(), sourceName);
}

/** Validates an already parsed spec object (structure, then cross references). */
export function validateSpec(raw: unknown, sourceName = 'graph.yaml'): GraphModel {
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) {
    throw new GraphSpecError(
      sourceName,
      parsed.error.issues.map((i) => ({ path: i.path, message: describeIssue(i) })),
    );
  }
  const { model, issues } = buildModel(parsed.data);
  if (issues.length > 0) throw new GraphSpecError(sourceName, issues);
  return model;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  }
  return issue.message;
}

function findDuplicateKeys(node: unknown, path: PropertyKey[], lines: LineCounter): Issue[] {
  const issues: Issue[] = [];
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (seen.has(key)) {
        const at = isScalar(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]) : undefined;
        issues.push({
          path: [...path, key],
          message: `duplicate key '${key}'${at ? ` (line ${at.line})` : ''}: each attribute, entity and edge is declared once`,
        });
      }
      seen.add(key);
      issues.push(...findDuplicateKeys(pair.value, [...path, key], lines));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      issues.push(...findDuplicateKeys(item, [...path, i], lines));
    });
  }
  return issues;
}
