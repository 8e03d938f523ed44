import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { MAX_DURATION_MS, parseDuration } from './duration.ts';
import { pairs, problemsOf, source, step } from './fixtures/manifests.ts';

describe('parseDuration', () => {
  it('reads a whole number with a unit, or units in descending order', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1m500ms')).toBe(60_500);
    expect(parseDuration('7d')).toBe(MAX_DURATION_MS);
  });

  it('throws a VALIDATION AppError for anything else', () => {
    for (const bad of [
      '',
      '30',
      '1.5h',
      '2 m',
      '-1s',
      '30S',
      'm',
      '1s1h',
      '1h1h',
      ' 1s',
      '0s',
      '0ms',
      '7d1ms',
      '8d',
    ]) {
      expect(() => parseDuration(bad), bad).toThrow(AppError);
    }
    expect(() => parseDuration('8d')).toThrow('invalid duration "8d": must be at most 7 days');
    expect(() => parseDuration('0s')).toThrow('invalid duration "0s": must be longer than zero');
  });
});

describe('durations in a manifest', () => {
  it('reports each bad duration at its field', () => {
    const text = source({
      timeout: 30,
      steps: [
        { ...step('a'), timeout: '1.5h' },
        { ...step('b'), timeout: '8d' },
      ],
    });
    expect(pairs(problemsOf(text))).toEqual([
      ['timeout: must be a duration string such as 500ms, 30s, 2m, 1h', 'timeout'],
      [
        'steps[0].timeout: invalid duration "1.5h": use a whole number with a unit, e.g. 500ms, 30s, 2m, 1h, 7d',
        'steps.0.timeout',
      ],
      ['steps[1].timeout: invalid duration "8d": must be at most 7 days', 'steps.1.timeout'],
    ]);
  });
});
