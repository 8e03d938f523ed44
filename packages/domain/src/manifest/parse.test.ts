// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow expression syntax, not a JS template
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../digest.ts';
import { manifestOf, problemsOf, source, step } from './fixtures/manifests.ts';
import { parseManifest } from './parse.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const yamlExample = fixture('contract-example.yaml');
const jsonExample = fixture('contract-example.json');
// Pinned: a published manifest's digest must never change across releases (idempotent publish).
const EXAMPLE_DIGEST = '0380f889699b602ed02c5c3c0c91efe092006e26cd45f92ac848e15c97d5104a';

describe('the contract example manifest', () => {
  it('parses as YAML with its documented shape and a stable digest', () => {
    const result = parseManifest(yamlExample);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.digest).toBe(EXAMPLE_DIGEST);
    const { manifest } = result;
    expect(manifest.name).toBe('intelgraph-build');
    expect(manifest.version).toBe('1.4.0');
    expect(manifest.timeout).toBe('30m');
    expect(manifest.params?.targets).toEqual({
      type: 'array',
      items: { type: 'string' },
      default: ['api', 'web'],
    });
    expect(manifest.steps.map((s) => s.id)).toEqual(['plan', 'build', 'gate', 'deploy']);
    expect(manifest.steps[1]?.foreach).toBe('${{ params.targets }}');
    expect(manifest.steps[1]?.retry).toEqual({
      max_attempts: 3,
      backoff: 'exponential',
      initial_ms: 200,
      max_ms: 10000,
      jitter: true,
    });
    expect(manifest.steps[2]?.if).toBe("${{ params.env == 'prod' }}");
  });

  it('gives the same digest for the JSON form with keys in another order', () => {
    const fromJson = parseManifest(jsonExample);
    expect(fromJson).toMatchObject({ ok: true, digest: EXAMPLE_DIGEST });
    expect(digestOf(JSON.parse(jsonExample))).toBe(EXAMPLE_DIGEST);
    const tabbed = JSON.stringify(JSON.parse(jsonExample), null, '\t'); // tabs are not YAML indentation
    expect(parseManifest(tabbed)).toMatchObject({ ok: true, digest: EXAMPLE_DIGEST });
  });

  it('ignores comments and layout but not values', () => {
    const reformatted = `# leading comment\n${yamlExample.replace(/ {2,}#.*$/gm, '').replace(/\n/g, '\n\n')}`;
    expect(parseManifest(reformatted)).toMatchObject({ ok: true, digest: EXAMPLE_DIGEST });
    const changed = parseManifest(yamlExample.replace('budget_usd: 5', 'budget_usd: 6'));
    expect(changed.ok && changed.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(changed.ok && changed.digest).not.toBe(EXAMPLE_DIGEST);
  });
});

describe('collecting problems', () => {
  it('reports every problem at once, each at its own field', () => {
    const problems = problemsOf(
      source({
        name: 'Bad Name',
        version: 'v1.0.0',
        budget_usd: 0,
        steps: [step('a', ['ghost']), { ...step('b'), uses: 'core.nope', neds: ['a'] }],
      }),
    );
    expect(problems.map((p) => p.field.join('.'))).toEqual([
      'name',
      'version',
      'budget_usd',
      'steps.1.neds',
      'steps.1.uses',
      'steps.0.needs.0',
    ]);
    expect(problems.every((p) => p.code === 'VALIDATION')).toBe(true);
  });

  it('caps a flood of problems and says how many were left out', () => {
    const steps = Array.from({ length: 300 }, (_, i) => ({ ...step(`s${i}`), typo: 1 }));
    const problems = problemsOf(source({ steps }));
    expect(problems).toHaveLength(100);
    expect(problems.at(-1)?.message).toBe('201 more problems not shown');
  });

  it('rejects a top level that is not a mapping', () => {
    for (const text of ['', '- a\n- b', '42', 'null']) {
      expect(problemsOf(text)).toEqual([
        {
          code: 'VALIDATION',
          message: 'manifest must be a YAML mapping (or JSON object) at the top level',
          field: [],
        },
      ]);
    }
  });

  it('accepts extra step types when the caller knows them', () => {
    const text = source({ steps: [{ ...step('a'), uses: 'web.scrape' }] });
    expect(problemsOf(text).map((p) => p.field.join('.'))).toEqual(['steps.0.uses']);
    expect(manifestOf(text, { knownStepTypes: ['web.scrape'] }).steps[0]?.uses).toBe('web.scrape');
  });
});
