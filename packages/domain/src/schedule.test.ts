import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import {
  MAX_SCHEDULE_PARAMS_BYTES,
  nextRunAt,
  type ScheduleSpec,
  validateSchedule,
  validateScheduleParams,
} from './schedule.ts';

function rejection(work: () => unknown): AppError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

const at = (iso: string) => new Date(iso);
const next = (spec: ScheduleSpec, from: string) => nextRunAt(spec, at(from)).toISOString();

describe('validateSchedule', () => {
  it('accepts 5-field and 6-field expressions in IANA zones, and normalises spacing', () => {
    expect(validateSchedule({ cron: '0 9 * * *', timezone: 'UTC' })).toEqual({
      cron: '0 9 * * *',
      timezone: 'UTC',
    });
    expect(validateSchedule({ cron: '  */15   9-17 * * MON-FRI ', timezone: 'Europe/Berlin' })).toEqual({
      cron: '*/15 9-17 * * MON-FRI',
      timezone: 'Europe/Berlin',
    });
    for (const spec of [
      { cron: '30 0 9 * * *', timezone: 'America/New_York' },
      { cron: '* * * * *', timezone: 'Asia/Kolkata' },
      { cron: '0 0 29 2 *', timezone: 'Etc/GMT+1' },
      { cron: '0 12 L * *', timezone: 'America/Argentina/Buenos_Aires' },
      { cron: '0 9 * * THU', timezone: 'Australia/Lord_Howe' },
    ]) {
      expect(() => validateSchedule(spec), spec.cron).not.toThrow();
    }
  });

  it('rejects malformed, impossible and non-standard cron expressions on input.cron', () => {
    for (const cron of [
      '',
      '   ',
      'garbage',
      '0 9 * *',
      '0 0 9 * * * *',
      '60 * * * *',
      '0 24 * * *',
      '0 0 30 2 *',
      '0 0 31 4,6 *',
      '@daily',
      'H 9 * * *',
      `0 9 * * *${' '.repeat(300)}1`,
    ]) {
      const error = rejection(() => validateSchedule({ cron, timezone: 'UTC' }));
      expect(error.code, cron).toBe('VALIDATION');
      expect(error.field, cron).toEqual(['input', 'cron']);
    }
  });

  it('tells impossible day-of-month / month combinations apart quickly, and keeps the possible ones', () => {
    const started = performance.now();
    const error = rejection(() => validateSchedule({ cron: '0 0 31 4,6,9,11 *', timezone: 'UTC' }));
    expect(error.message).toMatch(/never fires/);
    expect(performance.now() - started).toBeLessThan(100);
    for (const cron of ['0 0 31 * *', '0 0 30 2,3 *', '0 0 31 2 MON', '0 0 L 2 *']) {
      expect(() => validateSchedule({ cron, timezone: 'UTC' }), cron).not.toThrow();
    }
  });

  it('rejects schedules firing more often than once a minute', () => {
    for (const cron of ['* * * * * *', '*/30 * * * * *', '0,1 * * * * *']) {
      const error = rejection(() => validateSchedule({ cron, timezone: 'UTC' }));
      expect(error.code).toBe('VALIDATION');
      expect(error.field).toEqual(['input', 'cron']);
      expect(error.message).toMatch(/once a minute/);
    }
    // once a minute, at second 30, is fine
    expect(() => validateSchedule({ cron: '30 * * * * *', timezone: 'UTC' })).not.toThrow();
  });

  it('rejects unknown zones and UTC offsets on input.timezone, checking the zone first', () => {
    for (const timezone of ['', 'Mars/Olympus_Mons', 'Europe/Atlantis', '+01:00', 'UTC+1', 'Z', '../etc']) {
      const error = rejection(() => validateSchedule({ cron: '0 9 * * *', timezone }));
      expect(error.code, timezone).toBe('VALIDATION');
      expect(error.field, timezone).toEqual(['input', 'timezone']);
    }
    const both = rejection(() => validateSchedule({ cron: 'garbage', timezone: 'Nowhere/Land' }));
    expect(both.field).toEqual(['input', 'timezone']);
  });
});

describe('nextRunAt', () => {
  it('is the first fire time strictly after `from`', () => {
    const daily = { cron: '0 9 * * *', timezone: 'UTC' };
    expect(next(daily, '2025-01-15T08:59:59.500Z')).toBe('2025-01-15T09:00:00.000Z');
    expect(next(daily, '2025-01-15T09:00:00.000Z')).toBe('2025-01-16T09:00:00.000Z');
    expect(next({ cron: '*/15 * * * *', timezone: 'UTC' }, '2025-01-15T10:07:00Z')).toBe(
      '2025-01-15T10:15:00.000Z',
    );
    expect(next({ cron: '30 0 9 * * *', timezone: 'UTC' }, '2025-01-15T09:00:00Z')).toBe(
      '2025-01-15T09:00:30.000Z',
    );
  });

  it('follows the zone across DST: 09:00 Berlin is 08:00Z in winter and 07:00Z in summer', () => {
    const berlin = { cron: '0 9 * * *', timezone: 'Europe/Berlin' };
    expect(next(berlin, '2025-01-15T00:00:00Z')).toBe('2025-01-15T08:00:00.000Z');
    expect(next(berlin, '2025-07-15T00:00:00Z')).toBe('2025-07-15T07:00:00.000Z');
    // the day of the switch (2025-03-30, 02:00 CET -> 03:00 CEST) is already summer time at 09:00
    expect(next(berlin, '2025-03-29T12:00:00Z')).toBe('2025-03-30T07:00:00.000Z');
    const ny = { cron: '0 9 * * *', timezone: 'America/New_York' };
    expect(next(ny, '2025-01-15T00:00:00Z')).toBe('2025-01-15T14:00:00.000Z');
    expect(next(ny, '2025-07-15T00:00:00Z')).toBe('2025-07-15T13:00:00.000Z');
  });

  it('fires a wall-clock time skipped by spring-forward once, shifted by the gap (03:30 CEST)', () => {
    const spec = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(next(spec, '2025-03-28T12:00:00Z')).toBe('2025-03-29T01:30:00.000Z'); // 02:30 CET
    expect(next(spec, '2025-03-29T12:00:00Z')).toBe('2025-03-30T01:30:00.000Z'); // 03:30 CEST
    expect(next(spec, '2025-03-30T01:30:00Z')).toBe('2025-03-31T00:30:00.000Z'); // 02:30 CEST
  });

  it('fires a wall-clock time repeated by fall-back once, at its first (summer-time) occurrence', () => {
    const spec = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(next(spec, '2025-10-25T12:00:00Z')).toBe('2025-10-26T00:30:00.000Z'); // 02:30 CEST
    // from the first occurrence, or between the two, the next run is the next day (02:30 CET)
    expect(next(spec, '2025-10-26T00:30:00Z')).toBe('2025-10-27T01:30:00.000Z');
    expect(next(spec, '2025-10-26T00:45:00Z')).toBe('2025-10-27T01:30:00.000Z');
  });

  it('fires hourly schedules once per real hour across both switches', () => {
    const hourly = { cron: '0 * * * *', timezone: 'Europe/Berlin' };
    const walk = (from: string, n: number) => {
      const out: string[] = [];
      let cursor = at(from);
      for (let i = 0; i < n; i++) {
        cursor = nextRunAt(hourly, cursor);
        out.push(cursor.toISOString());
      }
      return out;
    };
    expect(walk('2025-10-25T23:30:00Z', 4)).toEqual([
      '2025-10-26T00:00:00.000Z', // 02:00 CEST
      '2025-10-26T01:00:00.000Z', // 02:00 CET
      '2025-10-26T02:00:00.000Z',
      '2025-10-26T03:00:00.000Z',
    ]);
    expect(walk('2025-03-29T23:30:00Z', 3)).toEqual([
      '2025-03-30T00:00:00.000Z', // 01:00 CET
      '2025-03-30T01:00:00.000Z', // 03:00 CEST (02:00 does not exist)
      '2025-03-30T02:00:00.000Z',
    ]);
  });
});

describe('validateScheduleParams', () => {
  it('accepts objects (absent means {}) up to the size cap', () => {
    expect(validateScheduleParams(undefined)).toEqual({});
    expect(validateScheduleParams(null)).toEqual({});
    expect(validateScheduleParams({ env: 'staging', n: [1, 2] })).toEqual({ env: 'staging', n: [1, 2] });
    const justFits = { s: 'x'.repeat(MAX_SCHEDULE_PARAMS_BYTES - '{"s":""}'.length) };
    expect(() => validateScheduleParams(justFits)).not.toThrow();
  });

  it('rejects arrays, scalars and oversized params on input.params', () => {
    const tooBig = { s: 'x'.repeat(MAX_SCHEDULE_PARAMS_BYTES) };
    const multiByte = { s: 'é'.repeat(MAX_SCHEDULE_PARAMS_BYTES / 2) }; // fits in chars, not in bytes
    for (const params of [[1, 2], 'text', 42, true, tooBig, multiByte]) {
      const error = rejection(() => validateScheduleParams(params));
      expect(error.code).toBe('VALIDATION');
      expect(error.field).toEqual(['input', 'params']);
    }
  });
});
