import { CronExpressionParser } from 'cron-parser';
import { AppError } from './errors.ts';

/** When a schedule fires: a cron expression read in an IANA time zone. */
export interface ScheduleSpec {
  cron: string;
  timezone: string;
}

/** Longest cron expression / zone name accepted (guards the parser against megabyte inputs). */
export const MAX_CRON_LENGTH = 256;
export const MAX_TIMEZONE_LENGTH = 64;
/** Cap on a schedule's params, as UTF-8 bytes of their JSON. */
export const MAX_SCHEDULE_PARAMS_BYTES = 64 * 1024;

const CRON_FIELD = ['input', 'cron'];
const TIMEZONE_FIELD = ['input', 'timezone'];
const PARAMS_FIELD = ['input', 'params'];

/**
 * Checks a schedule and returns it normalised (cron fields single-space separated). Throws
 * VALIDATION with field `['input','timezone']` for anything that is not an IANA zone name, and
 * `['input','cron']` for anything but a 5-field (minute hour day-of-month month day-of-week) or
 * 6-field (seconds first) expression that can fire and fires at most once a minute. Macros
 * (`@daily`) and Jenkins-style hashes (`H`, random per parse) are rejected.
 */
export function validateSchedule(spec: ScheduleSpec): ScheduleSpec {
  const timezone = validateTimezone(spec.timezone);
  const cron = validateCron(spec.cron);
  let expression: ReturnType<typeof CronExpressionParser.parse>;
  try {
    expression = CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date() });
  } catch (error) {
    throw new AppError('VALIDATION', `invalid cron expression: ${messageOf(error)}`, {
      field: CRON_FIELD,
      cause: error,
    });
  }
  if (expression.fields.second.values.length !== 1) {
    throw new AppError('VALIDATION', 'schedules may fire at most once a minute', { field: CRON_FIELD });
  }
  if (!dayOfMonthReachable(expression.fields)) {
    throw new AppError('VALIDATION', 'cron expression never fires: no listed month has that day', {
      field: CRON_FIELD,
    });
  }
  try {
    expression.next();
  } catch (error) {
    throw new AppError('VALIDATION', `cron expression never fires: ${messageOf(error)}`, {
      field: CRON_FIELD,
      cause: error,
    });
  }
  return { cron, timezone };
}

/**
 * The first fire time strictly after `from`, in the schedule's zone. Across DST, as cron-parser
 * 5 does it (pinned by the tests): a wall-clock time skipped on the spring-forward day (02:30 in
 * Europe/Berlin on 2025-03-30) still fires once that day, shifted by the gap to 03:30 local
 * (01:30Z, the instant 02:30 winter time would have been); a wall-clock time that happens twice
 * on the fall-back day fires once, at its first (summer-time) occurrence.
 */
export function nextRunAt(spec: ScheduleSpec, from: Date): Date {
  return CronExpressionParser.parse(spec.cron, { tz: spec.timezone, currentDate: from }).next().toDate();
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * False when the days of month exist in none of the months (`0 0 31 4,6 *`). cron-parser only
 * spots this for a single month; otherwise it searches ~0.7 s of CPU before giving up.
 */
function dayOfMonthReachable(fields: ReturnType<typeof CronExpressionParser.parse>['fields']): boolean {
  if (!fields.dayOfWeek.isWildcard || fields.dayOfMonth.hasLastChar) return true;
  const days = fields.dayOfMonth.values.map(Number).filter(Number.isInteger);
  if (days.length === 0) return true;
  const first = Math.min(...days);
  return fields.month.values.some((m) => first <= (DAYS_IN_MONTH[Number(m) - 1] ?? 0));
}

function validateCron(raw: string): string {
  if (typeof raw !== 'string' || raw.length > MAX_CRON_LENGTH) {
    throw new AppError('VALIDATION', `cron expression must be at most ${MAX_CRON_LENGTH} characters`, {
      field: CRON_FIELD,
    });
  }
  const fields = raw.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new AppError(
      'VALIDATION',
      'cron expression must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first)',
      { field: CRON_FIELD },
    );
  }
  // cron-parser reads a bare `H` as a random value per parse: the next run would move around.
  if (fields.some((f) => /(^|[^A-Za-z])H([^A-Za-z]|$)/.test(f))) {
    throw new AppError('VALIDATION', 'hashed cron values (H) are not supported', { field: CRON_FIELD });
  }
  return fields.join(' ');
}

function validateTimezone(raw: string): string {
  const zone = typeof raw === 'string' ? raw.trim() : '';
  // Offsets (+01:00) are not zones; newer engines accept them in Intl, so reject them here.
  const shaped =
    zone.length > 0 && zone.length <= MAX_TIMEZONE_LENGTH && /^[A-Za-z][A-Za-z0-9_+/-]*$/.test(zone);
  if (shaped) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return zone;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }
  throw new AppError(
    'VALIDATION',
    `unknown time zone ${JSON.stringify(raw)}; use an IANA name like Europe/Berlin`,
    {
      field: TIMEZONE_FIELD,
    },
  );
}

/**
 * Schedule params: a JSON object (absent means `{}`) of at most MAX_SCHEDULE_PARAMS_BYTES.
 * Throws VALIDATION with field `['input','params']`.
 */
export function validateScheduleParams(params: unknown): Record<string, unknown> {
  const value = params ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('VALIDATION', 'params must be a JSON object', { field: PARAMS_FIELD });
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_SCHEDULE_PARAMS_BYTES) {
    throw new AppError(
      'VALIDATION',
      `params are ${bytes} bytes; at most ${MAX_SCHEDULE_PARAMS_BYTES} allowed`,
      {
        field: PARAMS_FIELD,
      },
    );
  }
  return value as Record<string, unknown>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
