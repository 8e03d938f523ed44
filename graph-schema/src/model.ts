import type { EdgePropertySpec, PropertySpec, PropertyType, Spec } from './spec.ts';

/** One problem in the spec, at a path into the YAML document. */
export interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

export interface ModelProperty {
  name: string;
  type: PropertyType;
  required: boolean;
  enum?: string | undefined;
  description?: string | undefined;
  /** Declared in `base` (every entity of the scope has it). */
  base: boolean;
}

export interface ModelEntity {
  label: string;
  scope: string;
  /** The properties every query pins for this label (tenantId, environment, region …). */
  scopeKeys: readonly string[];
  description: string;
  properties: readonly ModelProperty[];
}

/** A uniqueness constraint or a range index, as it becomes one Cypher statement. */
export interface SchemaObject {
  kind: 'unique' | 'index';
  name: string;
  label: string;
  properties: readonly string[];
  why?: string | undefined;
}

export interface ModelEdgeProperty {
  name: string;
  type: PropertyType;
  required: boolean;
  /** Required only on edges starting at these labels. */
  requiredFor?: readonly string[] | undefined;
  enum?: string | undefined;
  description?: string | undefined;
}

export interface ModelEdge {
  type: string;
  from: readonly string[];
  to: readonly string[];
  cardinality: Spec['edges'][string]['cardinality'];
  required: Spec['edges'][string]['required'];
  description?: string | undefined;
  properties: readonly ModelEdgeProperty[];
}

export interface GraphModel {
  scopes: Spec['scopes'];
  enums: Spec['enums'];
  entities: readonly ModelEntity[];
  edges: readonly ModelEdge[];
  /** In statement order: per entity, uniqueness constraints first, then indexes. */
  schemaObjects: readonly SchemaObject[];
  api: Spec['api'];
  /** Constraints and indexes to drop (created by an earlier spec, replaced since). */
  retired: Spec['retired'];
}

type Path = PropertyKey[];

/** `entities.Run.indexes[0].on[1]` */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/** snake_case of a label or property name: WorkflowVersion → workflow_version, costUSD → cost_usd. */
export function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * `<label>_<props>`: a leading run of the entity's scope keys is written `scope`, a leading
 * tenantId alone `tenant` (run_scope_status, run_tenant_idempotency_key, run_id).
 */
export function deriveName(
  entity: Pick<ModelEntity, 'label' | 'scopeKeys'>,
  props: readonly string[],
): string {
  const keys = entity.scopeKeys;
  let head: string[] = [];
  let rest = props;
  if (props.length > keys.length && keys.every((k, i) => props[i] === k)) {
    head = ['scope'];
    rest = props.slice(keys.length);
  } else if (props.length > 1 && props[0] === 'tenantId') {
    head = ['tenant'];
    rest = props.slice(1);
  }
  return [snake(entity.label), ...head, ...rest.map(snake)].join('_');
}

/**
 * The index or constraint that serves a lookup on `on` (equality/range on those properties),
 * if any: it contains every looked-up property, and every property before the last of them is
 * either looked up too or, for scoped lookups, one of the entity's scope keys (which every API
 * query pins). Neo4j 5 uses a composite index when the query has a predicate on each of its
 * properties; repositories add `IS NOT NULL` for trailing properties they do not filter on.
 */
export function backingIndex(
  model: Pick<GraphModel, 'entities' | 'schemaObjects'>,
  label: string,
  on: readonly string[],
  scoped = true,
): SchemaObject | undefined {
  const entity = model.entities.find((e) => e.label === label);
  if (!entity) return undefined;
  const pinned = new Set([...on, ...(scoped ? entity.scopeKeys : [])]);
  return model.schemaObjects.find((o) => {
    if (o.label !== label || !on.every((p) => o.properties.includes(p))) return false;
    const last = Math.max(...on.map((p) => o.properties.indexOf(p)));
    return o.properties.slice(0, last + 1).every((p) => pinned.has(p));
  });
}

/** Cross-reference validation and resolution of a structurally valid spec. */
export function buildModel(spec: Spec): { model: GraphModel; issues: Issue[] } {
  const issues: Issue[] = [];
  const issue = (path: Path, message: string) => issues.push({ path, message });
  const labels = Object.keys(spec.entities);
  const known = (kind: string, names: readonly string[]) => `(declared ${kind}: ${names.join(', ')})`;

  // ---- enums
  for (const [name, values] of Object.entries(spec.enums)) {
    values.forEach((v, i) => {
      if (values.indexOf(v) !== i) issue(['enums', name, i], `duplicate value '${v}'`);
    });
  }
  const checkEnum = (p: PropertySpec | EdgePropertySpec, path: Path) => {
    if (p.enum === undefined) return;
    if (p.type !== 'string') issue([...path, 'enum'], `an enum applies to a string property, not ${p.type}`);
    if (!(p.enum in spec.enums)) {
      issue([...path, 'enum'], `unknown enum '${p.enum}' ${known('enums', Object.keys(spec.enums))}`);
    }
  };

  // ---- scopes and base
  const scopeKeyNames = new Set<string>();
  for (const [name, scope] of Object.entries(spec.scopes)) {
    scope.keys.forEach((key, i) => {
      scopeKeyNames.add(key);
      if (!(key in spec.base))
        issue(['scopes', name, 'keys', i], `scope key '${key}' is not a base property`);
      else if (!spec.base[key]?.required) issue(['base', key, 'required'], 'a scope key must be required');
    });
  }
  if (!('id' in spec.base)) issue(['base'], "the base properties must declare 'id'");
  for (const [name, p] of Object.entries(spec.base)) checkProperty(name, p, ['base', name]);

  function checkProperty(name: string, p: PropertySpec, path: Path): void {
    checkEnum(p, path);
    if ((p.unique || p.indexed) && (p.type === 'json' || p.type === 'string[]')) {
      issue(path, `a ${p.type} property cannot be unique or indexed`);
    }
    if (p.unique && p.indexed) {
      issue([...path, 'indexed'], `'${name}' is unique: its constraint already indexes it; drop indexed`);
    }
  }

  // ---- entities
  const entities: ModelEntity[] = [];
  const objects: Array<SchemaObject & { path: Path }> = [];
  for (const [label, e] of Object.entries(spec.entities)) {
    const path: Path = ['entities', label];
    const scope = spec.scopes[e.scope];
    if (!scope)
      issue([...path, 'scope'], `unknown scope '${e.scope}' ${known('scopes', Object.keys(spec.scopes))}`);
    const scopeKeys = scope?.keys ?? [];
    const properties: ModelProperty[] = [];
    const flagged: Array<{ name: string; p: PropertySpec; path: Path }> = [];
    for (const [name, p] of Object.entries(spec.base)) {
      // environment/region belong only to entities whose scope has them
      if (scopeKeyNames.has(name) && !scopeKeys.includes(name)) continue;
      properties.push({
        name,
        type: p.type,
        required: p.required,
        enum: p.enum,
        description: p.description,
        base: true,
      });
      flagged.push({ name, p, path: ['base', name] });
    }
    for (const [name, p] of Object.entries(e.properties)) {
      const ppath = [...path, 'properties', name];
      if (name in spec.base) {
        issue(ppath, `duplicate attribute '${name}': it is a base property every ${label} already has`);
        continue;
      }
      checkProperty(name, p, ppath);
      properties.push({
        name,
        type: p.type,
        required: p.required,
        enum: p.enum,
        description: p.description,
        base: false,
      });
      flagged.push({ name, p, path: ppath });
    }
    const entity: ModelEntity = { label, scope: e.scope, scopeKeys, description: e.description, properties };
    entities.push(entity);

    const own: Array<SchemaObject & { path: Path }> = [];
    const add = (kind: SchemaObject['kind'], props: string[], fpath: Path, name?: string, why?: string) => {
      const dup = props.find((p, i) => props.indexOf(p) !== i);
      if (dup) issue(fpath, `'${dup}' appears twice in the ${kind === 'unique' ? 'constraint' : 'index'}`);
      own.push({ kind, name: name ?? deriveName(entity, props), label, properties: props, why, path: fpath });
    };
    const widen = (flag: 'tenant' | 'scope' | 'global', name: string) =>
      flag === 'global' ? [name] : flag === 'tenant' ? ['tenantId', name] : [...scopeKeys, name];
    for (const { name, p, path: fpath } of flagged) {
      if (p.unique) add('unique', widen(p.unique, name), [...fpath, 'unique']);
      if (p.indexed) add('index', widen(p.indexed, name), [...fpath, 'indexed']);
    }
    e.indexes.forEach((ix, i) => {
      const ipath = [...path, 'indexes', i];
      ix.on.forEach((prop, j) => {
        if (!properties.some((p) => p.name === prop)) {
          issue([...ipath, 'on', j], `unknown property '${prop}' of ${label}`);
        } else if (['json', 'string[]'].includes(properties.find((p) => p.name === prop)?.type ?? '')) {
          issue([...ipath, 'on', j], `'${prop}' cannot be indexed (json and list properties are not)`);
        }
      });
      add(ix.unique ? 'unique' : 'index', ix.on, ipath, ix.name, ix.why);
    });
    objects.push(...own.filter((o) => o.kind === 'unique'), ...own.filter((o) => o.kind === 'index'));
  }

  // ---- names and definitions are unique (Neo4j shares one namespace for constraints and indexes)
  const byName = new Map<string, Path>();
  const bySchema = new Map<string, SchemaObject & { path: Path }>();
  for (const o of objects) {
    const other = byName.get(o.name);
    if (other) issue(o.path, `name '${o.name}' is already used at ${formatPath(other)}`);
    byName.set(o.name, o.path);
    const key = `${o.label}(${o.properties.join(',')})`;
    const same = bySchema.get(key);
    if (same) {
      issue(
        o.path,
        `${key} is already ${same.kind === 'unique' ? 'constrained' : 'indexed'} as '${same.name}'`,
      );
    }
    bySchema.set(key, o);
  }

  // ---- edges
  const edges: ModelEdge[] = [];
  for (const [type, e] of Object.entries(spec.edges)) {
    const path: Path = ['edges', type];
    for (const side of ['from', 'to'] as const) {
      for (const l of e[side]) {
        if (!labels.includes(l)) issue([...path, side], `unknown label '${l}' ${known('labels', labels)}`);
      }
    }
    const properties: ModelEdgeProperty[] = [];
    for (const [name, p] of Object.entries(e.properties)) {
      const ppath = [...path, 'properties', name];
      checkEnum(p, ppath);
      for (const l of p.requiredFor ?? []) {
        if (!e.from.includes(l)) issue([...ppath, 'requiredFor'], `'${l}' is not a start label of ${type}`);
      }
      if (p.required && p.requiredFor)
        issue([...ppath, 'requiredFor'], 'required: true already covers every edge');
      properties.push({ name, ...p });
    }
    edges.push({ type, ...e, properties });
  }

  // ---- API filters and lookups must be backed by an index
  const model: GraphModel = {
    scopes: spec.scopes,
    enums: spec.enums,
    entities,
    edges,
    schemaObjects: objects.map(({ path: _path, ...o }) => o),
    api: spec.api,
    retired: spec.retired,
  };
  // ---- a retired name is gone for good: never reused by a current object, never listed twice
  const retiredNames = new Set<string>();
  spec.retired.forEach((r, i) => {
    if (byName.has(r.name)) {
      issue(
        ['retired', i, 'name'],
        `'${r.name}' is retired but still defined at ${formatPath(byName.get(r.name) ?? [])}`,
      );
    }
    if (retiredNames.has(r.name)) issue(['retired', i, 'name'], `'${r.name}' is retired twice`);
    retiredNames.add(r.name);
  });
  const checkLookup = (label: string, on: readonly string[], scoped: boolean, path: Path): void => {
    const entity = entities.find((x) => x.label === label);
    const missing = on.filter((p) => !entity?.properties.some((q) => q.name === p));
    if (!entity) {
      issue(path, `unknown label '${label}' ${known('labels', labels)}`);
    } else if (missing.length > 0) {
      issue(path, `unknown property ${missing.map((m) => `'${m}'`).join(', ')} of ${label}`);
    } else if (!backingIndex(model, label, on, scoped)) {
      issue(path, `no index serves ${label}(${on.join(', ')})${scoped ? ' within its scope' : ''}; add one`);
    }
  };
  for (const [input, f] of Object.entries(spec.api.filters)) {
    const path: Path = ['api', 'filters', input];
    if (!labels.includes(f.entity)) {
      issue([...path, 'entity'], `unknown label '${f.entity}' ${known('labels', labels)}`);
      continue;
    }
    for (const [field, prop] of Object.entries(f.fields)) {
      if (field in f.computed) issue([...path, 'computed', field], `'${field}' is both mapped and computed`);
      checkLookup(f.entity, [prop], true, [...path, 'fields', field]);
    }
  }
  spec.api.lookups.forEach((l, i) => {
    checkLookup(l.entity, l.on, l.scoped, ['api', 'lookups', i]);
  });

  return { model, issues };
}
