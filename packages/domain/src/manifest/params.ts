import { canonicalJson } from '../digest.ts';
import { foreachParamName } from './expressions.ts';
import {
  FOREACH_MAX,
  type Manifest,
  type ManifestProblem,
  type ParamSpec,
  type ParamType,
  problem,
  renderPath,
} from './types.ts';

/** Problems listed per checked value at most (a 10k-item array of wrong items gives 20). */
const MAX_VALUE_PROBLEMS = 20;

const TYPE_NOUN: Record<ParamType, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
};

export type ParamsResult =
  | { ok: true; values: Record<string, unknown> }
  | { ok: false; errors: ManifestProblem[] };

/**
 * Checks run parameters against the manifest's `params`: rejects unknown names, requires
 * params without a default, checks type / enum / bounds / items, applies defaults (copied),
 * and bounds params that feed a `foreach` to FOREACH_MAX items. Fields: `['params', name, …]`.
 */
export function validateParams(manifest: Manifest, input: unknown): ParamsResult {
  const given = input ?? {};
  if (!isPlainObject(given)) {
    return { ok: false, errors: [problem('params must be an object of name: value', ['params'])] };
  }
  const specs = manifest.params ?? {};
  const errors: ManifestProblem[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(specs, name)) {
      const declared = Object.keys(specs);
      const hint =
        declared.length > 0 ? ` (declared: ${declared.join(', ')})` : ' (the workflow declares none)';
      errors.push(problem(`unknown param "${name}"${hint}`, ['params', name]));
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = given[name];
    if (value !== undefined) {
      for (const p of checkParamValue(spec, value, ['params', name])) {
        errors.push(problem(`${renderPath(p.field)}: ${p.message}`, p.field));
      }
      values[name] = value;
    } else if (spec.default !== undefined) {
      values[name] = structuredClone(spec.default);
    } else {
      errors.push(problem(`params.${name} is required`, ['params', name]));
    }
  }
  for (const step of manifest.steps) {
    const ref = step.foreach === undefined ? undefined : foreachParamName(step.foreach);
    const name = ref === undefined ? undefined : Object.keys(specs).find((n) => n.toLowerCase() === ref);
    const value = name === undefined ? undefined : values[name];
    if (name !== undefined && Array.isArray(value) && value.length > FOREACH_MAX) {
      errors.push(
        problem(
          `params.${name} has ${value.length} items but step "${step.id}" fans out over it (at most ${FOREACH_MAX})`,
          ['params', name],
        ),
      );
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

/**
 * Problems of `value` against `spec`, with fields under `field`. Messages have no subject
 * ("must be an integer, got a string"): callers prefix the rendered field.
 */
export function checkParamValue(
  spec: ParamSpec,
  value: unknown,
  field: readonly string[],
): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  check(spec, value, [...field], out);
  return out;
}

function check(spec: ParamSpec, value: unknown, field: string[], out: ManifestProblem[]): void {
  if (out.length >= MAX_VALUE_PROBLEMS) return;
  if (!hasType(spec.type, value)) {
    out.push(problem(`must be ${TYPE_NOUN[spec.type]}, got ${describe(value)}`, field));
    return;
  }
  if (spec.enum && !spec.enum.some((choice) => sameJson(choice, value))) {
    out.push(problem(`must be one of ${spec.enum.map(render).join(', ')}; got ${render(value)}`, field));
  }
  if (typeof value === 'number') {
    if (spec.minimum !== undefined && value < spec.minimum) {
      out.push(problem(`must be at least ${spec.minimum}, got ${value}`, field));
    }
    if (spec.maximum !== undefined && value > spec.maximum) {
      out.push(problem(`must be at most ${spec.maximum}, got ${value}`, field));
    }
  }
  const items = spec.items;
  if (items && Array.isArray(value)) {
    value.forEach((item, i) => {
      check(items, item, [...field, String(i)], out);
    });
  }
}

/**
 * Consistency of one param spec once its shape is valid: `items` only on arrays, bounds only
 * on numbers, enum entries and the default valid against the spec. Fields are relative to the
 * spec and messages have no subject (the schema prefixes the full path).
 */
export function paramSpecProblems(spec: ParamSpec): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const numeric = spec.type === 'number' || spec.type === 'integer';
  if (spec.items !== undefined && spec.type !== 'array') {
    out.push(problem('only allowed on array params', ['items']));
  }
  for (const bound of ['minimum', 'maximum'] as const) {
    if (spec[bound] !== undefined && !numeric) {
      out.push(problem('only allowed on number and integer params', [bound]));
    }
  }
  if (spec.minimum !== undefined && spec.maximum !== undefined && spec.minimum > spec.maximum) {
    out.push(problem('must not exceed maximum', ['minimum']));
  }
  if (out.length > 0) return out;
  const { enum: choices, ...withoutEnum } = spec;
  choices?.forEach((choice, i) => {
    out.push(...checkParamValue(withoutEnum, choice, ['enum', String(i)]));
  });
  if (spec.default !== undefined) out.push(...checkParamValue(spec, spec.default, ['default']));
  return out;
}

function hasType(type: ParamType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && Number.isFinite(value))
    return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function render(value: unknown): string {
  let text: string;
  try {
    text = canonicalJson(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}
