import { describe, expect, it, vi } from 'vitest';
import { pairs, problemsOf, source } from './fixtures/manifests.ts';
import { parseManifest } from './parse.ts';
import { MAX_MANIFEST_BYTES } from './types.ts';

// Records the options each yaml Composer is built with (behaviour unchanged).
const composerOptions = vi.hoisted(() => [] as Record<string, unknown>[]);
vi.mock('yaml', async (importOriginal) => {
  const yaml = await importOriginal<typeof import('yaml')>();
  class RecordingComposer extends yaml.Composer {
    constructor(options: ConstructorParameters<typeof yaml.Composer>[0] = {}) {
      composerOptions.push({ ...options });
      super(options);
    }
  }
  return { ...yaml, Composer: RecordingComposer };
});

const TOO_LARGE = { code: 'VALIDATION', message: 'manifest is larger than 1 MiB', field: [] };

describe('YAML syntax', () => {
  it('reports malformed YAML with line:col and an empty field', () => {
    const problems = problemsOf('name: demo\nversion: 1.0.0\nsteps: [a, b\nother: 1\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.field).toEqual([]);
    expect(problems[0]?.message).toMatch(/^YAML syntax error at 4:1: /);
  });

  it('reports malformed JSON the same way', () => {
    const problems = problemsOf('{"name": "demo", "version": "1.0.0",, }');
    expect(problems[0]?.message).toMatch(/^YAML syntax error at 1:\d+: /);
    expect(problems[0]?.field).toEqual([]);
  });

  it('rejects a stream of several documents', () => {
    const problems = problemsOf(`${source()}\n---\n${source()}`);
    expect(problems.map((p) => p.message)).toEqual([
      'YAML syntax error at 2:1: a manifest is a single YAML document',
    ]);
  });
});

describe('duplicate keys', () => {
  it('reports each duplicate with its position and path, at any depth', () => {
    const text = [
      'name: demo',
      'version: 1.0.0',
      'name: other',
      'steps:',
      '  - id: a',
      '    uses: core.echo',
      '    with: { message: x, message: y }',
    ].join('\n');
    expect(pairs(problemsOf(text))).toEqual([
      ['duplicate key "name" at 3:1', 'name'],
      ['duplicate key "message" at 7:25', 'steps.0.with.message'],
    ]);
  });

  it('reports duplicate keys in JSON too', () => {
    expect(pairs(problemsOf('{"name": "a", "version": "1.0.0", "name": "b", "steps": []}'))).toEqual([
      ['duplicate key "name" at 1:35', 'name'],
    ]);
  });

  it('leaves duplicate detection to the linear check: yaml`s own is quadratic', () => {
    // yaml's uniqueKeys compares each key with every earlier one: 30k keys in one mapping take
    // ~11 s (60k: ~45 s), against ~0.8 s without it.
    composerOptions.length = 0;
    const keys = Array.from({ length: 5000 }, (_, i) => `      k${i}: ${i}`).join('\n');
    const text = `name: demo\nversion: 1.0.0\nsteps:\n  - id: a\n    uses: core.echo\n    with:\n${keys}\n`;
    const result = parseManifest(text);
    expect(result.ok && Object.keys(result.manifest.steps[0]?.with ?? {})).toHaveLength(5000);
    expect(composerOptions).toEqual([expect.objectContaining({ uniqueKeys: false })]);
  });
});

describe('hostile or non-JSON YAML', () => {
  it('rejects tags, including YAML 1.1 ones and local ones (position: the tagged value)', () => {
    const text = 'name: !!str demo\nversion: !custom 1.0.0\nsteps: !!binary aGk=\n';
    expect(pairs(problemsOf(text))).toEqual([
      ['YAML tags are not allowed (tag:yaml.org,2002:str) at 1:13', 'name'],
      ['YAML tags are not allowed (!custom) at 2:18', 'version'],
      ['YAML tags are not allowed (tag:yaml.org,2002:binary) at 3:17', 'steps'],
    ]);
  });

  it('stops a billion-laughs alias bomb', () => {
    const lines = ['name: demo', 'version: 1.0.0', 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const started = performance.now();
    expect(problemsOf(lines.join('\n'))).toEqual([
      { code: 'VALIDATION', message: 'YAML uses aliases too much (limit 50 expansions)', field: [] },
    ]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('still allows a few aliases', () => {
    const text = [
      'name: demo',
      'version: 1.0.0',
      'steps:',
      '  - { id: a, uses: core.echo, retry: &r { max_attempts: 3 } }',
      '  - { id: b, uses: core.echo, retry: *r }',
    ].join('\n');
    const result = parseManifest(text);
    expect(result.ok && result.manifest.steps[1]?.retry).toEqual({ max_attempts: 3 });
  });

  it('rejects deep flow nesting while lexing, before yaml spends seconds on it', () => {
    for (const text of ['['.repeat(MAX_MANIFEST_BYTES), `a: ${'['.repeat(5000)}${']'.repeat(5000)}`]) {
      const started = performance.now();
      expect(problemsOf(text).map((p) => p.message)).toEqual(['YAML is nested more than 64 levels deep']);
      expect(performance.now() - started).toBeLessThan(500);
    }
  });

  it('does not count brackets in scalars or comments as nesting', () => {
    const b = '['.repeat(100) + '{'.repeat(100);
    const text = [
      'name: demo',
      `version: 1.0.0 # ${b}`,
      'steps:',
      `  - { id: a, uses: core.echo, with: { quoted: "${b}", single: '${b}' } }`,
      '  - id: b',
      '    uses: core.echo',
      '    with:',
      `      plain: a ${b}`,
      '      block: |',
      `        ${b}`,
    ].join('\n');
    const result = parseManifest(text);
    expect(result.ok && result.manifest.steps.map((s) => s.with)).toEqual([
      { quoted: b, single: b },
      { plain: `a ${b}`, block: `${b}\n` },
    ]);
  });

  it('reports block nesting deep enough to overflow yaml`s composer as too deep', () => {
    const text = `name: demo\nversion: 1.0.0\nx:\n  ${'- '.repeat(20_000)}leaf\n`; // compact nested sequences
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^YAML syntax error at \d+:\d+: nested too deeply$/);
  });

  it('rejects values nested deeper than 64 levels in block style', () => {
    const lines = ['name: demo', 'version: 1.0.0', 'steps:', '  - id: a', '    uses: core.echo', '    with:'];
    for (let depth = 0; depth < 70; depth++) lines.push(`${' '.repeat(6 + depth * 2)}k${depth}:`);
    lines.push(`${' '.repeat(6 + 70 * 2)}leaf`);
    const problems = problemsOf(lines.join('\n'));
    expect(problems.map((p) => p.message)).toEqual(['manifest is nested more than 64 levels deep']);
  });

  it('rejects numbers JSON cannot represent and __proto__ keys', () => {
    const text = `{"name": "demo", "version": "1.0.0", "budget_usd": .inf, "__proto__": {"x": 1}, "steps": []}`;
    expect(pairs(problemsOf(text))).toEqual([
      ['numbers must be finite (.inf and .nan are not JSON)', 'budget_usd'],
      ['key "__proto__" is not allowed', ''],
    ]);
  });
});

describe('size cap', () => {
  it('rejects 10 MB quickly, without parsing it', () => {
    const huge = `name: demo\nversion: 1.0.0\n# ${'x'.repeat(10 * 1024 * 1024)}`;
    const started = performance.now();
    expect(parseManifest(huge)).toEqual({ ok: false, errors: [TOO_LARGE] });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('counts UTF-8 bytes, not characters, at the 1 MiB boundary', () => {
    const base = source();
    const exact = `${base}\n#${' '.repeat(MAX_MANIFEST_BYTES - base.length - 2)}`;
    expect(Buffer.byteLength(exact)).toBe(MAX_MANIFEST_BYTES);
    expect(parseManifest(exact).ok).toBe(true);
    expect(parseManifest(`${exact} `)).toEqual({ ok: false, errors: [TOO_LARGE] });
    // 600k two-byte characters: fewer than 1 Mi characters, more than 1 MiB.
    const accented = `${base}\n#${'é'.repeat(600_000)}`;
    expect(accented.length).toBeLessThan(MAX_MANIFEST_BYTES);
    expect(parseManifest(accented)).toEqual({ ok: false, errors: [TOO_LARGE] });
  });
});
