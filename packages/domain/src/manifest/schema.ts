import { parse as parseSemver } from 'semver';
import { z } from 'zod';
import { durationProblem, MAX_DURATION_MS } from './duration.ts';
import { paramSpecProblems } from './params.ts';
import {
  MAX_STEPS,
  type Manifest,
  type ManifestProblem,
  type ManifestStep,
  PARAM_TYPES,
  type ParamSpec,
  problem,
  type RetryPolicy,
  renderPath,
} from './types.ts';

export const NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;
export const STEP_ID_RE = /^[a-z][a-z0-9_-]{0,62}$/;
/** Param names are expression identifiers (GitHub's lexer also allows `-`). */
export const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

const duration = z
  .string({ error: 'must be a duration string such as 500ms, 30s, 2m, 1h' })
  .superRefine((text, ctx) => {
    const reason = durationProblem(text);
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  });

const ParamSpecSchema: z.ZodType<ParamSpec> = z
  .strictObject({
    type: z.enum(PARAM_TYPES),
    enum: z.array(z.unknown()).min(1).max(1000).optional(),
    default: z.unknown().optional(),
    get items(): z.ZodOptional<z.ZodType<ParamSpec>> {
      return ParamSpecSchema.optional();
    },
    description: z.string().max(2000).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  })
  .superRefine((spec, ctx) => {
    for (const p of paramSpecProblems(spec))
      ctx.addIssue({ code: 'custom', message: p.message, path: p.field });
  });

const RetrySchema = z
  .strictObject({
    max_attempts: z.int().min(1).max(10).optional(),
    backoff: z.enum(['exponential', 'fixed']).optional(),
    initial_ms: z.int().min(0).max(MAX_DURATION_MS).optional(),
    max_ms: z.int().min(0).max(MAX_DURATION_MS).optional(),
    jitter: z.boolean().optional(),
  })
  .superRefine((retry, ctx) => {
    if (retry.initial_ms !== undefined && retry.max_ms !== undefined && retry.initial_ms > retry.max_ms) {
      ctx.addIssue({ code: 'custom', message: 'must not exceed max_ms', path: ['initial_ms'] });
    }
  }) satisfies z.ZodType<RetryPolicy>;

const StepSchema = z.strictObject({
  id: z.string().regex(STEP_ID_RE, `must match ${STEP_ID_RE.source}`),
  uses: z.string().min(1),
  needs: z.array(z.string()).max(MAX_STEPS).optional(),
  foreach: z.string().optional(),
  if: z.string().optional(),
  with: z.record(z.string(), z.unknown()).optional(),
  retry: RetrySchema.optional(),
  timeout: duration.optional(),
  continue_on_error: z.boolean().optional(),
}) satisfies z.ZodType<ManifestStep>;

export const ManifestSchema = z.strictObject({
  name: z.string().regex(NAME_RE, `must match ${NAME_RE.source}`),
  version: z
    .string({ error: 'must be a semantic version string such as "1.4.0"' })
    .refine(isStrictSemver, 'must be a semantic version such as 1.4.0 (no "v" prefix)'),
  description: z.string().max(2000).optional(),
  risk: z.enum(['low', 'medium', 'high']).optional(),
  budget_usd: z.number().positive().optional(),
  timeout: duration.optional(),
  params: z
    .record(
      z.string().regex(PARAM_NAME_RE, `param names must match ${PARAM_NAME_RE.source}`),
      ParamSpecSchema,
    )
    .optional(),
  steps: z.array(StepSchema).min(1).max(MAX_STEPS),
}) satisfies z.ZodType<Manifest>;

export { ParamSpecSchema };

/** semver accepts `v1.0.0`, `=1.0.0` and padding; a manifest version must be exactly canonical. */
function isStrictSemver(text: string): boolean {
  const parsed = parseSemver(text);
  if (parsed === null) return false;
  const build = parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '';
  return `${parsed.format()}${build}` === text;
}

const KEYS = {
  manifest: Object.keys(ManifestSchema.shape),
  step: Object.keys(StepSchema.shape),
  retry: ['max_attempts', 'backoff', 'initial_ms', 'max_ms', 'jitter'],
  param: ['type', 'enum', 'default', 'items', 'description', 'minimum', 'maximum'],
};

/** zod issues as manifest problems; unknown keys get one problem each, with a suggestion. */
export function zodProblems(error: z.ZodError): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = [...path, key];
        out.push(problem(`${renderPath(field)}: unknown key${suggest(key, knownKeys(path))}`, field));
      }
    } else {
      out.push(problem(path.length > 0 ? `${renderPath(path)}: ${issue.message}` : issue.message, path));
    }
  }
  return out;
}

function knownKeys(path: string[]): string[] {
  if (path.length === 0) return KEYS.manifest;
  if (path[0] === 'params') return KEYS.param;
  if (path[0] === 'steps' && path.length === 2) return KEYS.step;
  if (path[0] === 'steps' && path[2] === 'retry') return KEYS.retry;
  return [];
}

function suggest(key: string, known: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance && d < candidate.length) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64) return 99;
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost));
    }
    row = next;
  }
  return row[b.length] ?? 99;
}
