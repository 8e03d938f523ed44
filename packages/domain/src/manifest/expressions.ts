import { data, type Expr, Lexer, Parser } from '@actions/expressions';
import {
  Binary,
  ContextAccess,
  FunctionCall,
  Grouping,
  IndexAccess,
  Literal,
  Logical,
  Unary,
} from '@actions/expressions/ast';

/**
 * `${{ }}` expressions (GitHub Actions syntax), parsed with GitHub's @actions/expressions and
 * never evaluated here. Context and function names are case-insensitive, as in GitHub.
 */

/** Contexts an expression may name; `item` / `index` only in the `with` of a `foreach` step. */
export const EXPRESSION_CONTEXTS = ['params', 'run', 'steps', 'item', 'index'] as const;
/** Properties of the `run` context. */
export const RUN_FIELDS = ['id', 'tenant', 'environment', 'region'] as const;

export interface ExpressionSpan {
  /** The text between `${{` and `}}`. */
  source: string;
  /** Offsets of `${{` and just past `}}` in the scanned string. */
  start: number;
  end: number;
}

/** One use of a context: `steps.build.output` gives `{ context: 'steps', key: 'build' }`. */
export interface ContextRef {
  /** Lower-cased context name. */
  context: string;
  /** First property when it is a literal name (`x.key` or `x['key']`), as written. */
  key?: string;
  /** True when the context is indexed by something other than a literal name (`x[expr]`, `x.*`). */
  dynamic: boolean;
}

export type ParsedExpression = { ok: true; expr: Expr; refs: ContextRef[] } | { ok: false; message: string };

/**
 * The `${{ … }}` spans of a string. `}}` inside a quoted literal does not close a span
 * (`${{ format('}}') }}`). An unclosed `${{` yields `unterminated` with its offset.
 */
export function findExpressions(text: string): { spans: ExpressionSpan[]; unterminated?: number } {
  const spans: ExpressionSpan[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('${{', from);
    if (start < 0) return { spans };
    let inString = false;
    let i = start + 3;
    for (; i < text.length; i++) {
      if (text[i] === "'") inString = !inString;
      else if (!inString && text[i] === '}' && text[i + 1] === '}') break;
    }
    if (i >= text.length) return { spans, unterminated: start };
    spans.push({ source: text.slice(start + 3, i), start, end: i + 2 });
    from = i + 2;
  }
}

/** True when the whole string (outer whitespace aside) is exactly one `${{ }}` expression. */
export function isWholeExpression(text: string): boolean {
  const { spans, unterminated } = findExpressions(text);
  const [span] = spans;
  return (
    unterminated === undefined &&
    spans.length === 1 &&
    span !== undefined &&
    text.slice(0, span.start).trim() === '' &&
    text.slice(span.end).trim() === ''
  );
}

/** Lexes and parses the text inside `${{ }}`; contexts outside EXPRESSION_CONTEXTS fail. */
export function parseExpression(source: string): ParsedExpression {
  let expr: Expr | undefined;
  try {
    const { tokens } = new Lexer(source).lex();
    // The parser rejects unknown contexts, unknown functions and wrong argument counts.
    expr = new Parser(tokens, [...EXPRESSION_CONTEXTS], []).parse() as Expr | undefined;
  } catch (error) {
    // Lexer errors are plain Errors with a long message; parser errors are ExpressionErrors.
    const message = error instanceof Error ? error.message.replace(/\. Located at .*$/s, '') : String(error);
    return { ok: false, message };
  }
  // The parser returns undefined (despite its type) for an empty expression.
  if (expr === undefined) return { ok: false, message: 'empty expression' };
  const refs: ContextRef[] = [];
  collectRefs(expr, refs);
  return { ok: true, expr, refs };
}

/**
 * The param a `foreach` fans out over when it is exactly `${{ params.<name> }}`, lower-cased;
 * undefined for any other expression.
 */
export function foreachParamName(foreach: string): string | undefined {
  const [span] = findExpressions(foreach).spans;
  if (!span || !isWholeExpression(foreach)) return undefined;
  const parsed = parseExpression(span.source);
  if (!parsed.ok) return undefined;
  const { expr } = parsed;
  if (!(expr instanceof IndexAccess) || !(expr.expr instanceof ContextAccess)) return undefined;
  if (expr.expr.name.lexeme.toLowerCase() !== 'params') return undefined;
  return literalName(expr.index)?.toLowerCase();
}

function literalName(expr: Expr): string | undefined {
  return expr instanceof Literal && expr.literal instanceof data.StringData ? expr.literal.value : undefined;
}

function collectRefs(expr: Expr, out: ContextRef[]): void {
  if (expr instanceof ContextAccess) {
    out.push({ context: expr.name.lexeme.toLowerCase(), dynamic: false });
  } else if (expr instanceof IndexAccess) {
    const indices: Expr[] = [];
    let base: Expr = expr;
    while (base instanceof IndexAccess) {
      indices.unshift(base.index);
      base = base.expr;
    }
    const [first] = indices;
    if (base instanceof ContextAccess && first !== undefined) {
      const key = literalName(first);
      out.push({
        context: base.name.lexeme.toLowerCase(),
        dynamic: key === undefined,
        ...(key === undefined ? {} : { key }),
      });
    } else {
      collectRefs(base, out);
    }
    for (const index of indices) collectRefs(index, out);
  } else if (expr instanceof FunctionCall || expr instanceof Logical) {
    for (const arg of expr.args) collectRefs(arg, out);
  } else if (expr instanceof Binary) {
    collectRefs(expr.left, out);
    collectRefs(expr.right, out);
  } else if (expr instanceof Unary) {
    collectRefs(expr.expr, out);
  } else if (expr instanceof Grouping) {
    collectRefs(expr.group, out);
  }
}
