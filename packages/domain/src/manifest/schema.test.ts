import { describe, expect, it } from 'vitest';
import { manifestOf, pairs, problemsOf, source, step } from './fixtures/manifests.ts';

describe('manifest fields', () => {
  it('checks the name pattern', () => {
    expect(manifestOf(source({ name: `a${'b'.repeat(62)}` })).name).toHaveLength(63);
    for (const name of ['Build', '1build', 'build_x', `a${'b'.repeat(63)}`, '']) {
      expect(pairs(problemsOf(source({ name }))), name).toEqual([
        ['name: must match ^[a-z][a-z0-9-]{0,62}$', 'name'],
      ]);
    }
  });

  it('wants a strict semantic version', () => {
    expect(manifestOf(source({ version: '1.4.0-rc.1+build.5' })).version).toBe('1.4.0-rc.1+build.5');
    for (const version of ['v1.0.0', '1.0', '1', '01.0.0', '1.0.0-', ' 1.0.0', '=1.0.0', '1.0.0+']) {
      expect(pairs(problemsOf(source({ version }))), version).toEqual([
        ['version: must be a semantic version such as 1.4.0 (no "v" prefix)', 'version'],
      ]);
    }
    expect(pairs(problemsOf('name: demo\nversion: 1.0\nsteps: [{id: a, uses: core.echo}]'))).toEqual([
      ['version: must be a semantic version string such as "1.4.0"', 'version'],
    ]);
  });

  it('checks risk, budget and the number of steps', () => {
    const problems = problemsOf(source({ risk: 'extreme', budget_usd: -1, steps: [] }));
    expect(problems.map((p) => p.field.join('.'))).toEqual(['risk', 'budget_usd', 'steps']);
    const tooMany = Array.from({ length: 501 }, (_, i) => step(`s${i}`));
    expect(pairs(problemsOf(source({ steps: tooMany })))).toEqual([
      ['steps: Too big: expected array to have <=500 items', 'steps'],
    ]);
  });
});

describe('unknown keys (typo protection)', () => {
  it('reports each unknown key at manifest, step and retry level, with a suggestion', () => {
    const text = source({
      nmae: 'x',
      steps: [
        { ...step('a'), neds: [], retry: { max_attempt: 2 } },
        { ...step('b'), whatever: 1 },
      ],
    });
    // zod reports an object's unknown keys after its members.
    expect(pairs(problemsOf(text))).toEqual([
      ['steps[0].retry.max_attempt: unknown key (did you mean "max_attempts"?)', 'steps.0.retry.max_attempt'],
      ['steps[0].neds: unknown key (did you mean "needs"?)', 'steps.0.neds'],
      ['steps[1].whatever: unknown key', 'steps.1.whatever'],
      ['nmae: unknown key (did you mean "name"?)', 'nmae'],
    ]);
  });
});

describe('steps', () => {
  it('checks the step id pattern and the step type', () => {
    const text = source({
      steps: [
        { ...step('a'), id: 'Bad.Id' },
        { ...step('b'), uses: 'core.ech0' },
      ],
    });
    expect(pairs(problemsOf(text))).toEqual([
      ['steps[0].id: must match ^[a-z][a-z0-9_-]{0,62}$', 'steps.0.id'],
      [
        'unknown step type "core.ech0" (known: core.echo, core.sleep, core.fail, approval.gate, http.request, exec.command, llm.generate)',
        'steps.1.uses',
      ],
    ]);
  });

  it('checks retry, with and continue_on_error', () => {
    const bad = {
      ...step('a'),
      retry: { max_attempts: 11, backoff: 'linear', initial_ms: 500, max_ms: 100, jitter: 'yes' },
      with: ['not', 'an', 'object'],
      continue_on_error: 'true',
    };
    expect(problemsOf(source({ steps: [bad] })).map((p) => p.field.join('.'))).toEqual([
      'steps.0.with',
      'steps.0.retry.max_attempts',
      'steps.0.retry.backoff',
      'steps.0.retry.jitter',
      'steps.0.continue_on_error',
    ]);
    const order = { ...step('a'), retry: { initial_ms: 500, max_ms: 100 } };
    expect(pairs(problemsOf(source({ steps: [order] })))).toEqual([
      ['steps[0].retry.initial_ms: must not exceed max_ms', 'steps.0.retry.initial_ms'],
    ]);
  });
});
