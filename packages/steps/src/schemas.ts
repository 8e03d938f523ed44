import { parseDuration } from '@maestro/domain';
import { z } from 'zod';

/** A duration such as `30s`, `24h` or `1h30m` (the domain's parseDuration), as milliseconds. */
export const durationMs = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'invalid duration' });
    return z.NEVER;
  }
});

/** A string that can be passed to the OS (argv, env, paths): no NUL bytes. */
export const osString = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\0'), 'may not contain NUL bytes');
