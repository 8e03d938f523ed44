import { digestOf } from '../digest.ts';
import { isPlainObject } from './params.ts';
import { ManifestSchema, zodProblems } from './schema.ts';
import { semanticProblems } from './semantics.ts';
import {
  BUILTIN_STEP_TYPES,
  type ManifestProblem,
  type ManifestResult,
  type ParseManifestOptions,
  problem,
} from './types.ts';
import { loadYaml } from './yaml.ts';

/** At most this many problems are returned; a final one says how many more there were. */
export const MAX_PROBLEMS = 100;

/**
 * Parses and validates a manifest written in YAML or JSON (see the workflow DSL contract).
 * Pure: no I/O. Never throws for bad input; collects every problem it finds, each with a
 * `field` path into the manifest. The digest is sha256 of the canonical JSON of the manifest,
 * so YAML and JSON forms, key order and comments do not change it.
 */
export function parseManifest(source: string, options: ParseManifestOptions = {}): ManifestResult {
  const loaded = loadYaml(source);
  if (!loaded.ok) return loaded;
  const raw = loaded.value;
  if (!isPlainObject(raw)) {
    return {
      ok: false,
      errors: [problem('manifest must be a YAML mapping (or JSON object) at the top level')],
    };
  }
  const known = new Set<string>(options.knownStepTypes ?? BUILTIN_STEP_TYPES);
  const parsed = ManifestSchema.safeParse(raw);
  const errors = parsed.success ? [] : zodProblems(parsed.error);
  errors.push(...semanticProblems(raw, known));
  if (!parsed.success || errors.length > 0) return { ok: false, errors: capped(errors) };
  return { ok: true, manifest: parsed.data, digest: digestOf(parsed.data) };
}

function capped(errors: ManifestProblem[]): ManifestProblem[] {
  if (errors.length <= MAX_PROBLEMS) return errors;
  const shown = errors.slice(0, MAX_PROBLEMS - 1);
  shown.push(problem(`${errors.length - shown.length} more problems not shown`));
  return shown;
}
