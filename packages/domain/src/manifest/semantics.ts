import {
  EXPRESSION_CONTEXTS,
  findExpressions,
  foreachParamName,
  isWholeExpression,
  parseExpression,
  RUN_FIELDS,
} from './expressions.ts';
import { checkGraph, type GraphStep } from './graph.ts';
import { isPlainObject } from './params.ts';
import { ParamSpecSchema } from './schema.ts';
import { FOREACH_MAX, MAX_STEPS, type ManifestProblem, type ParamSpec, problem } from './types.ts';

/**
 * Checks beyond the shape: step types, the step graph, expressions and their scope, foreach
 * bounds. They read the raw value defensively so that they run (and report) even when other
 * parts of the manifest have shape errors, which zod reports separately.
 */
export function semanticProblems(
  raw: Record<string, unknown>,
  knownStepTypes: ReadonlySet<string>,
): ManifestProblem[] {
  const rawSteps = Array.isArray(raw.steps) ? raw.steps : [];
  if (rawSteps.length > MAX_STEPS) return []; // the count is reported by the schema
  const steps = rawSteps.map(looseStep);
  const out: ManifestProblem[] = [];

  const known = [...knownStepTypes].join(', ');
  for (const step of steps) {
    if (typeof step.uses === 'string' && step.uses !== '' && !knownStepTypes.has(step.uses)) {
      out.push(
        problem(`unknown step type "${step.uses}" (known: ${known})`, ['steps', String(step.index), 'uses']),
      );
    }
  }
  const params = declaredParams(raw.params, out);
  const graph = checkGraph(steps);
  out.push(...graph.problems);
  for (const step of steps) {
    const upstream = new Set((graph.upstream[step.index] ?? []).map((i) => steps[i]?.id?.toLowerCase()));
    out.push(...stepExpressionProblems(step, upstream, params));
  }
  return out;
}

interface LooseStep extends GraphStep {
  uses: unknown;
  foreach: unknown;
  if: unknown;
  with: unknown;
}

function looseStep(value: unknown, index: number): LooseStep {
  const step = isPlainObject(value) ? value : {};
  const needs = Array.isArray(step.needs) ? step.needs : [];
  return {
    index,
    id: typeof step.id === 'string' ? step.id : undefined,
    needs: needs.flatMap((id: unknown, pos) => (typeof id === 'string' ? [{ id, pos }] : [])),
    uses: step.uses,
    foreach: step.foreach,
    if: step.if,
    with: step.with,
  };
}

/** Declared params by lower-cased name (spec when its shape is valid); undefined if unknowable. */
type Params = Map<string, ParamSpec | undefined> | undefined;

function declaredParams(value: unknown, out: ManifestProblem[]): Params {
  if (value === undefined) return new Map();
  if (!isPlainObject(value)) return undefined;
  const params = new Map<string, ParamSpec | undefined>();
  for (const [name, spec] of Object.entries(value)) {
    const lower = name.toLowerCase();
    if (params.has(lower)) {
      out.push(
        problem(`param "${name}" differs from another only in case; expressions cannot tell them apart`, [
          'params',
          name,
        ]),
      );
    }
    const parsed = ParamSpecSchema.safeParse(spec);
    params.set(lower, parsed.success ? parsed.data : undefined);
  }
  return params;
}

type Place = 'with' | 'if' | 'foreach';

function stepExpressionProblems(
  step: LooseStep,
  upstream: Set<string | undefined>,
  params: Params,
): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const base = ['steps', String(step.index)];
  const name = step.id ?? `steps[${step.index}]`;
  const hasForeach = step.foreach !== undefined;
  const checkString = (text: string, field: string[], place: Place) => {
    const { spans, unterminated } = findExpressions(text);
    if (unterminated !== undefined) {
      out.push(problem(`unterminated expression (missing }}): ${clip(text.slice(unterminated))}`, field));
    }
    for (const span of spans) {
      const shown = clip(text.slice(span.start, span.end));
      const parsed = parseExpression(span.source);
      if (!parsed.ok) {
        out.push(problem(`invalid expression ${shown}: ${parsed.message}`, field));
        continue;
      }
      for (const ref of parsed.refs) {
        const reason = refProblem(ref.context, ref.key, ref.dynamic, place);
        if (reason) out.push(problem(`${reason} (in ${shown})`, field));
      }
    }
  };
  const refProblem = (context: string, key: string | undefined, dynamic: boolean, place: Place) => {
    switch (context) {
      case 'item':
      case 'index':
        if (place !== 'with' || !hasForeach)
          return `"${context}" is only in scope in the with of a foreach step`;
        return undefined;
      case 'params':
        if (key !== undefined && params && !params.has(key.toLowerCase()))
          return `params.${key} is not declared`;
        return undefined;
      case 'run':
        if (key !== undefined && !(RUN_FIELDS as readonly string[]).includes(key.toLowerCase())) {
          return `run.${key} does not exist; run has ${RUN_FIELDS.join(', ')}`;
        }
        return undefined;
      case 'steps':
        if (key === undefined || dynamic)
          return 'steps must be followed by a step id, as in steps.<id>.output';
        if (!upstream.has(key.toLowerCase())) return `steps.${key} is not upstream of ${name}`;
        return undefined;
      default: // the parser only admits EXPRESSION_CONTEXTS
        return `unknown context "${context}" (contexts: ${EXPRESSION_CONTEXTS.join(', ')})`;
    }
  };

  for (const place of ['if', 'foreach'] as const) {
    const text = step[place];
    if (typeof text !== 'string') continue;
    if (!isWholeExpression(text)) {
      out.push(problem(`${place} must be a single \${{ }} expression`, [...base, place]));
    }
    checkString(text, [...base, place], place);
  }
  if (typeof step.foreach === 'string') out.push(...foreachBound(step.foreach, [...base, 'foreach'], params));
  if (isPlainObject(step.with)) {
    walkStrings(step.with, [...base, 'with'], (text, field) => checkString(text, field, 'with'));
  }
  return out;
}

/** A foreach over `params.X`: X must be an array param whose default has at most FOREACH_MAX items. */
function foreachBound(foreach: string, field: string[], params: Params): ManifestProblem[] {
  const name = foreachParamName(foreach);
  const spec = name === undefined ? undefined : params?.get(name);
  if (spec === undefined) return [];
  if (spec.type !== 'array') {
    return [problem(`foreach needs an array, but params.${name} is of type ${spec.type}`, field)];
  }
  if (Array.isArray(spec.default) && spec.default.length > FOREACH_MAX) {
    return [
      problem(
        `foreach over params.${name}: its default has ${spec.default.length} items, at most ${FOREACH_MAX} are allowed`,
        field,
      ),
    ];
  }
  return [];
}

function walkStrings(value: unknown, field: string[], visit: (text: string, field: string[]) => void): void {
  if (typeof value === 'string') visit(value, field);
  else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      walkStrings(item, [...field, String(i)], visit);
    });
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) walkStrings(item, [...field, key], visit);
  }
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
