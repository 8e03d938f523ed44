import { AppError } from '../errors.ts';

/** Longest duration a manifest may state (run or step timeout, approval expiry): 7 days. */
export const MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
// Units in descending order, each at most once: `500ms`, `30s`, `2m`, `1h30m`, `7d`.
const DURATION_RE = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Why `text` is not a valid duration, or undefined when it is. */
export function durationProblem(text: string): string | undefined {
  const parsed = parse(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

/**
 * Milliseconds of a duration such as `500ms`, `30s`, `2m`, `1h`, `24h`, `7d` or `1h30m`.
 * Throws a VALIDATION AppError when the text is malformed, zero, or longer than 7 days.
 */
export function parseDuration(text: string): number {
  const parsed = parse(text);
  if (typeof parsed === 'string') throw new AppError('VALIDATION', parsed);
  return parsed;
}

function parse(text: string): number | string {
  const match = text.length <= 40 ? DURATION_RE.exec(text) : null;
  if (text === '' || !match) {
    return `invalid duration "${text.slice(0, 40)}": use a whole number with a unit, e.g. 500ms, 30s, 2m, 1h, 7d`;
  }
  const [, d, h, m, s, ms] = match;
  const total =
    Number(d ?? 0) * UNIT_MS.d +
    Number(h ?? 0) * UNIT_MS.h +
    Number(m ?? 0) * UNIT_MS.m +
    Number(s ?? 0) * UNIT_MS.s +
    Number(ms ?? 0) * UNIT_MS.ms;
  if (total <= 0) return `invalid duration "${text}": must be longer than zero`;
  if (total > MAX_DURATION_MS) return `invalid duration "${text}": must be at most 7 days`;
  return total;
}
