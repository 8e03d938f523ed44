import { data, Evaluator } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';
import { AppError } from '../errors.ts';
import { findExpressions, isWholeExpression, parseExpression } from '../manifest/expressions.ts';

/**
 * What `${{ }}` expressions see at run time (shared/contract/workflow-dsl.md): `params`,
 * `run`, `steps.<id>.output` and, inside a `foreach` step, `item` and `index`.
 */
export interface ExpressionContext {
  params: Record<string, unknown>;
  run: { id: string; tenant: string; environment: string; region: string };
  /** Outputs of finished steps; a foreach step's output is the list of its items' outputs. */
  steps: Record<string, { output: unknown }>;
  item?: unknown;
  index?: number;
}

/** Evaluated expressions may not build documents larger than this (JSON characters). */
const MAX_RESULT_CHARS = 1_000_000;

function toData(ctx: ExpressionContext): data.Dictionary {
  const plain: Record<string, unknown> = { params: ctx.params, run: ctx.run, steps: ctx.steps };
  if (ctx.item !== undefined) plain.item = ctx.item;
  if (ctx.index !== undefined) plain.index = ctx.index;
  return JSON.parse(JSON.stringify(plain), data.reviver) as data.Dictionary;
}

function evaluateData(source: string, context: data.Dictionary, field: string[]): data.ExpressionData {
  const parsed = parseExpression(source);
  if (!parsed.ok) throw new AppError('VALIDATION', `invalid expression: ${parsed.message}`, { field });
  try {
    return new Evaluator(parsed.expr, context).evaluate();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new AppError('VALIDATION', `expression failed: ${message.slice(0, 300)}`, { field });
  }
}

function toPlain(value: data.ExpressionData): unknown {
  const text = JSON.stringify(value, data.replacer);
  if (text === undefined) return null;
  if (text.length > MAX_RESULT_CHARS) throw new AppError('VALIDATION', 'expression result is too large');
  return JSON.parse(text);
}

/**
 * A compiled context: evaluates many expressions against the same data without converting it
 * again. Errors are VALIDATION AppErrors whose `field` points into the manifest.
 */
export interface Evaluation {
  /** `${{ expr }}` alone keeps its type; text with embedded expressions becomes a string. */
  resolve(value: unknown, field: string[]): unknown;
  /** An `if` condition: GitHub truthiness of the single expression. */
  condition(source: string, field: string[]): boolean;
  /** A `foreach` expression: must yield an array. */
  items(source: string, field: string[], max: number): unknown[];
}

export function evaluation(ctx: ExpressionContext): Evaluation {
  const context = toData(ctx);
  const single = (text: string, field: string[]): data.ExpressionData => {
    const [span] = findExpressions(text).spans;
    if (!span || !isWholeExpression(text)) {
      throw new AppError('VALIDATION', 'expected a single ${{ }} expression', { field });
    }
    return evaluateData(span.source, context, field);
  };
  const resolveString = (text: string, field: string[]): unknown => {
    const { spans, unterminated } = findExpressions(text);
    if (unterminated !== undefined) throw new AppError('VALIDATION', 'unterminated ${{', { field });
    if (spans.length === 0) return text;
    if (isWholeExpression(text)) return toPlain(single(text, field));
    let out = '';
    let from = 0;
    for (const span of spans) {
      out += text.slice(from, span.start) + evaluateData(span.source, context, field).coerceString();
      from = span.end;
    }
    out += text.slice(from);
    if (out.length > MAX_RESULT_CHARS)
      throw new AppError('VALIDATION', 'expression result is too large', { field });
    return out;
  };
  const resolve = (value: unknown, field: string[]): unknown => {
    if (typeof value === 'string') return resolveString(value, field);
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, [...field, String(i)]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, [...field, k])]));
    }
    return value;
  };
  return {
    resolve,
    condition: (source, field) => truthy(single(source, field)),
    items(source, field, max) {
      const value = toPlain(single(source, field));
      if (!Array.isArray(value)) throw new AppError('VALIDATION', 'foreach must yield an array', { field });
      if (value.length > max) {
        throw new AppError('VALIDATION', `foreach yields ${value.length} items; at most ${max} are allowed`, {
          field,
        });
      }
      return value;
    },
  };
}
