/**
 * Types and limits of the workflow manifest (see shared/contract/workflow-dsl.md).
 * The shapes mirror the document as written: durations stay strings (use `parseDuration`),
 * defaults are not filled in, so the digest is of what the author published.
 */

/** Largest accepted manifest source, in UTF-8 bytes. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Most steps one manifest may declare. */
export const MAX_STEPS = 500;
/** Most items one `foreach` step may fan out to (the engine enforces it at run time). */
export const FOREACH_MAX = 100;

/** Step types of the contract; pass `knownStepTypes` to `parseManifest` to extend them. */
export const BUILTIN_STEP_TYPES = [
  'core.echo',
  'core.sleep',
  'core.fail',
  'approval.gate',
  'http.request',
  'exec.command',
  'llm.generate',
] as const;

export const PARAM_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** One declared parameter (JSON-Schema-like). `default` must itself satisfy the spec. */
export interface ParamSpec {
  type: ParamType;
  enum?: unknown[];
  default?: unknown;
  /** Element spec of an `array` param. */
  items?: ParamSpec;
  description?: string;
  /** Bounds of a `number` / `integer` param, inclusive. */
  minimum?: number;
  maximum?: number;
}

export interface RetryPolicy {
  /** Counts all attempts, the first included (default 1). */
  max_attempts?: number;
  backoff?: 'exponential' | 'fixed';
  initial_ms?: number;
  max_ms?: number;
  jitter?: boolean;
}

export interface ManifestStep {
  id: string;
  uses: string;
  needs?: string[];
  /** A single `${{ }}` expression yielding the items to fan out over. */
  foreach?: string;
  /** A single `${{ }}` expression; false skips the step. */
  if?: string;
  with?: Record<string, unknown>;
  retry?: RetryPolicy;
  /** Duration such as `2m` (see `parseDuration`). */
  timeout?: string;
  continue_on_error?: boolean;
}

export interface Manifest {
  name: string;
  version: string;
  description?: string;
  risk?: 'low' | 'medium' | 'high';
  budget_usd?: number;
  /** Run deadline, a duration such as `30m`. */
  timeout?: string;
  params?: Record<string, ParamSpec>;
  steps: ManifestStep[];
}

/** One validation failure; `field` is a path into the manifest (array indices as strings). */
export interface ManifestProblem {
  code: 'VALIDATION';
  message: string;
  field: string[];
}

export type ManifestResult =
  | { ok: true; manifest: Manifest; digest: string }
  | { ok: false; errors: ManifestProblem[] };

export interface ParseManifestOptions {
  /** Step types `uses` may name; default `BUILTIN_STEP_TYPES`. */
  knownStepTypes?: Iterable<string>;
}

export function problem(message: string, field: readonly (string | number)[] = []): ManifestProblem {
  return { code: 'VALIDATION', message, field: field.map(String) };
}

/** `['steps','2','needs','0']` -> `steps[2].needs[0]`. */
export function renderPath(path: readonly string[]): string {
  return path.map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}
