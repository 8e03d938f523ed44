// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow expression syntax, not a JS template
import { describe, expect, it } from 'vitest';
import { findExpressions, foreachParamName, isWholeExpression, parseExpression } from './expressions.ts';
import { manifestOf, pairs, problemsOf, source, step } from './fixtures/manifests.ts';

const params = { env: { type: 'string', default: 'dev' }, targets: { type: 'array', default: ['api'] } };

/** Problems of a two-step manifest whose second step is `b` with the given extra keys. */
function problemsOfStep(extra: Record<string, unknown>): [string, string][] {
  return pairs(problemsOf(source({ params, steps: [step('a'), { ...step('b', ['a']), ...extra }] })));
}

describe('finding ${{ }} in strings', () => {
  it('finds every span and skips }} inside quoted literals', () => {
    const text = "a ${{ params.env }} b ${{ format('}}{0}', 'it''s') }}";
    expect(findExpressions(text).spans.map((s) => s.source)).toEqual([
      ' params.env ',
      " format('}}{0}', 'it''s') ",
    ]);
    expect(findExpressions('plain text').spans).toEqual([]);
    expect(findExpressions('x ${{ params.env').unterminated).toBe(2);
  });

  it('knows when a string is exactly one expression', () => {
    expect(isWholeExpression('  ${{ params.targets }} ')).toBe(true);
    expect(isWholeExpression('${{ a }}${{ b }}')).toBe(false);
    expect(isWholeExpression('x ${{ params.targets }}')).toBe(false);
    expect(isWholeExpression("params.env == 'prod'")).toBe(false);
  });
});

describe('parsing with @actions/expressions', () => {
  it('collects the contexts an expression uses', () => {
    const parsed = parseExpression(
      "steps.build.output.x == params['env'] && contains(run.id, item) || steps[params.k]",
    );
    expect(parsed.ok && parsed.refs).toEqual([
      { context: 'steps', key: 'build', dynamic: false },
      { context: 'params', key: 'env', dynamic: false },
      { context: 'run', key: 'id', dynamic: false },
      { context: 'item', dynamic: false },
      { context: 'steps', dynamic: true },
      { context: 'params', key: 'k', dynamic: false },
    ]);
  });

  it('reports syntax errors from the lexer and the parser, and empty expressions', () => {
    expect(parseExpression(' params.env == ')).toEqual({
      ok: false,
      message: "Unexpected end of expression: '=='",
    });
    expect(parseExpression("params.env = 'x'")).toEqual({ ok: false, message: "Unexpected symbol: '='" });
    expect(parseExpression("'open")).toEqual({ ok: false, message: "Unexpected symbol: ''open'" });
    expect(parseExpression('  ')).toEqual({ ok: false, message: 'empty expression' });
  });

  it('knows GitHub`s built-in functions only, with their arities', () => {
    expect(parseExpression("format('{0}', params.env)").ok).toBe(true);
    expect(parseExpression('toJSON(fromJSON(params.env))').ok).toBe(true);
    expect(parseExpression('success()')).toEqual({ ok: false, message: "Unrecognized function: 'success'" });
    expect(parseExpression('contains(params.env)')).toEqual({
      ok: false,
      message: "Too few parameters supplied: 'contains'",
    });
  });

  it('names the param a foreach fans out over only for a bare params.X', () => {
    expect(foreachParamName('${{ params.Targets }}')).toBe('targets');
    expect(foreachParamName("${{ params['targets'] }}")).toBe('targets');
    expect(foreachParamName('${{ fromJSON(params.targets) }}')).toBeUndefined();
    expect(foreachParamName('${{ params.targets.list }}')).toBeUndefined();
  });
});

describe('expressions in a manifest', () => {
  it('accepts the contexts in scope', () => {
    const steps = [
      step('a'),
      {
        ...step('b', ['a']),
        foreach: '${{ params.targets }}',
        if: "${{ params.env != 'prod' && run.environment == 'ci' }}",
        with: {
          message: '${{ item }}#${{ index }} after ${{ steps.a.output.message }} on ${{ run.tenant }}',
        },
      },
      { ...step('c', ['b']), with: { nested: [{ deep: '${{ steps.a.output }}' }] } },
    ];
    expect(manifestOf(source({ params, steps })).steps).toHaveLength(3);
  });

  it('reports a syntax error at the string`s field with the expression', () => {
    expect(problemsOfStep({ with: { body: { env: 'deploy ${{ params.env == }}' } } })).toEqual([
      [
        "invalid expression ${{ params.env == }}: Unexpected end of expression: '=='",
        'steps.1.with.body.env',
      ],
    ]);
  });

  it('reports an unterminated expression', () => {
    expect(problemsOfStep({ with: { argv: ['x', '${{ params.env'] } })).toEqual([
      ['unterminated expression (missing }}): ${{ params.env', 'steps.1.with.argv.1'],
    ]);
  });

  it('rejects contexts that do not exist, as the parser does', () => {
    expect(problemsOfStep({ with: { sha: '${{ github.sha }}' } })).toEqual([
      ["invalid expression ${{ github.sha }}: Unrecognized named-value: 'github'", 'steps.1.with.sha'],
    ]);
  });

  it('rejects item and index outside the with of a foreach step', () => {
    expect(problemsOfStep({ with: { message: '${{ item }}' } })).toEqual([
      ['"item" is only in scope in the with of a foreach step (in ${{ item }})', 'steps.1.with.message'],
    ]);
    expect(problemsOfStep({ foreach: '${{ params.targets }}', if: '${{ index > 0 }}' })).toEqual([
      ['"index" is only in scope in the with of a foreach step (in ${{ index > 0 }})', 'steps.1.if'],
    ]);
  });

  it('rejects steps.<id> unless the step is upstream, directly or transitively', () => {
    const steps = [
      step('a'),
      step('b', ['a']),
      { ...step('c', ['b']), with: { ok: '${{ steps.a.output }}', bad: '${{ steps.d.output }}' } },
      { ...step('d'), with: { self: '${{ steps.d.output }}', dyn: '${{ steps[params.env].output }}' } },
    ];
    expect(pairs(problemsOf(source({ params, steps })))).toEqual([
      ['steps.d is not upstream of c (in ${{ steps.d.output }})', 'steps.2.with.bad'],
      ['steps.d is not upstream of d (in ${{ steps.d.output }})', 'steps.3.with.self'],
      [
        'steps must be followed by a step id, as in steps.<id>.output (in ${{ steps[params.env].output }})',
        'steps.3.with.dyn',
      ],
    ]);
  });

  it('rejects undeclared params and unknown run fields', () => {
    expect(problemsOfStep({ with: { a: '${{ params.nope }}', b: '${{ run.user }}' } })).toEqual([
      ['params.nope is not declared (in ${{ params.nope }})', 'steps.1.with.a'],
      [
        'run.user does not exist; run has id, tenant, environment, region (in ${{ run.user }})',
        'steps.1.with.b',
      ],
    ]);
  });

  it('requires if and foreach to be a single expression', () => {
    expect(problemsOfStep({ if: "params.env == 'prod'", foreach: 'x ${{ params.targets }}' })).toEqual([
      ['if must be a single ${{ }} expression', 'steps.1.if'],
      ['foreach must be a single ${{ }} expression', 'steps.1.foreach'],
    ]);
  });
});

describe('foreach bound', () => {
  const fanOut = (count: number, type = 'array') =>
    source({
      params: {
        targets: { type, default: type === 'array' ? Array.from({ length: count }, (_, i) => `t${i}`) : 'x' },
      },
      steps: [{ ...step('a'), foreach: '${{ params.targets }}' }],
    });

  it('accepts a param default of 100 items and rejects 101', () => {
    expect(manifestOf(fanOut(100)).steps[0]?.foreach).toBe('${{ params.targets }}');
    expect(pairs(problemsOf(fanOut(101)))).toEqual([
      ['foreach over params.targets: its default has 101 items, at most 100 are allowed', 'steps.0.foreach'],
    ]);
  });

  it('rejects a foreach over a param that is not an array', () => {
    expect(pairs(problemsOf(fanOut(0, 'string')))).toEqual([
      ['foreach needs an array, but params.targets is of type string', 'steps.0.foreach'],
    ]);
  });
});
