// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow expression syntax, not a JS template
import { describe, expect, it } from 'vitest';
import { manifestOf, pairs, problemsOf, source, step } from './fixtures/manifests.ts';
import { validateParams } from './params.ts';

const manifest = manifestOf(
  source({
    params: {
      env: { type: 'string', enum: ['staging', 'prod'], default: 'staging' },
      targets: { type: 'array', items: { type: 'string' }, default: ['api', 'web'] },
      replicas: { type: 'integer', minimum: 1, maximum: 10 },
      options: { type: 'object', default: { dry_run: true } },
      verbose: { type: 'boolean', default: false },
    },
    steps: [{ ...step('a'), foreach: '${{ params.targets }}' }],
  }),
);

describe('validateParams', () => {
  it('applies defaults as copies and keeps given values', () => {
    const result = validateParams(manifest, { replicas: 3, env: 'prod' });
    expect(result).toEqual({
      ok: true,
      values: {
        env: 'prod',
        targets: ['api', 'web'],
        replicas: 3,
        options: { dry_run: true },
        verbose: false,
      },
    });
    if (!result.ok) return;
    expect(result.values.targets).not.toBe(manifest.params?.targets?.default);
  });

  it('rejects wrong types, enum misses and out-of-range numbers at their field', () => {
    const result = validateParams(manifest, {
      env: 'dev',
      replicas: 11,
      verbose: 'yes',
      targets: ['api', 7],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(pairs(result.errors)).toEqual([
      ['params.env: must be one of "staging", "prod"; got "dev"', 'params.env'],
      ['params.targets[1]: must be a string, got an integer', 'params.targets.1'],
      ['params.replicas: must be at most 10, got 11', 'params.replicas'],
      ['params.verbose: must be a boolean, got a string', 'params.verbose'],
    ]);
  });

  it('rejects unknown params and requires params without a default', () => {
    const result = validateParams(manifest, { envv: 'prod' });
    expect(result.ok || pairs(result.errors)).toEqual([
      ['unknown param "envv" (declared: env, targets, replicas, options, verbose)', 'params.envv'],
      ['params.replicas is required', 'params.replicas'],
    ]);
  });

  it('checks integers and objects strictly', () => {
    const result = validateParams(manifest, { replicas: 2.5, options: ['x'] });
    expect(result.ok || pairs(result.errors)).toEqual([
      ['params.replicas: must be an integer, got a number', 'params.replicas'],
      ['params.options: must be an object, got an array', 'params.options'],
    ]);
  });

  it('bounds a param that feeds a foreach to 100 items', () => {
    const many = Array.from({ length: 101 }, (_, i) => `t${i}`);
    expect(validateParams(manifest, { replicas: 1, targets: many.slice(0, 100) }).ok).toBe(true);
    const result = validateParams(manifest, { replicas: 1, targets: many });
    expect(result.ok || pairs(result.errors)).toEqual([
      ['params.targets has 101 items but step "a" fans out over it (at most 100)', 'params.targets'],
    ]);
  });

  it('wants an object of params', () => {
    const noRequired = manifestOf(source());
    expect(validateParams(noRequired, undefined)).toEqual({ ok: true, values: {} });
    expect(validateParams(noRequired, ['x'])).toEqual({
      ok: false,
      errors: [{ code: 'VALIDATION', message: 'params must be an object of name: value', field: ['params'] }],
    });
    expect(validateParams(noRequired, { x: 1 })).toEqual({
      ok: false,
      errors: [
        {
          code: 'VALIDATION',
          message: 'unknown param "x" (the workflow declares none)',
          field: ['params', 'x'],
        },
      ],
    });
  });
});

describe('param specs in the manifest', () => {
  const specProblems = (spec: Record<string, unknown>) => pairs(problemsOf(source({ params: { p: spec } })));

  it('checks the default against the spec', () => {
    expect(specProblems({ type: 'string', enum: ['a', 'b'], default: 'c' })).toEqual([
      ['params.p.default: must be one of "a", "b"; got "c"', 'params.p.default'],
    ]);
    expect(specProblems({ type: 'array', items: { type: 'integer' }, default: [1, 'x'] })).toEqual([
      ['params.p.default[1]: must be an integer, got a string', 'params.p.default.1'],
    ]);
    expect(specProblems({ type: 'number', maximum: 1, default: 2 })).toEqual([
      ['params.p.default: must be at most 1, got 2', 'params.p.default'],
    ]);
  });

  it('checks enum entries, items and bounds belong to the type', () => {
    expect(specProblems({ type: 'integer', enum: [1, 'two'] })).toEqual([
      ['params.p.enum[1]: must be an integer, got a string', 'params.p.enum.1'],
    ]);
    expect(specProblems({ type: 'string', items: { type: 'string' }, minimum: 1 })).toEqual([
      ['params.p.items: only allowed on array params', 'params.p.items'],
      ['params.p.minimum: only allowed on number and integer params', 'params.p.minimum'],
    ]);
    expect(specProblems({ type: 'number', minimum: 5, maximum: 1 })).toEqual([
      ['params.p.minimum: must not exceed maximum', 'params.p.minimum'],
    ]);
  });

  it('rejects unknown types, unknown keys and bad names', () => {
    expect(specProblems({ type: 'date', required: true }).map(([, field]) => field)).toEqual([
      'params.p.type',
      'params.p.required',
    ]);
    expect(pairs(problemsOf(source({ params: { '1x': { type: 'string' } } }))).map(([, f]) => f)).toEqual([
      'params.1x',
    ]);
  });

  it('rejects params whose names differ only in case', () => {
    const text = source({ params: { env: { type: 'string' }, Env: { type: 'string' } } });
    expect(pairs(problemsOf(text))).toEqual([
      ['param "Env" differs from another only in case; expressions cannot tell them apart', 'params.Env'],
    ]);
  });
});
