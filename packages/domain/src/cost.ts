import type { Manifest, ManifestStep } from './manifest/types.ts';

/**
 * The price table the estimator starts from: USD per task by step type, and per 1,000 tokens
 * by model for `llm.generate`. Estimates are deliberately simple and conservative; the engine
 * records actual cost and the drift between the two per run.
 */
export const STEP_PRICES_USD: Readonly<Record<string, number>> = {
  'core.echo': 0,
  'core.sleep': 0,
  'core.fail': 0,
  'approval.gate': 0,
  'http.request': 0.0001,
  'exec.command': 0.001,
  'llm.generate': 0,
};

export const MODEL_PRICES_PER_1K_TOKENS_USD: Readonly<Record<string, number>> = {
  'gpt-4o-mini': 0.0006,
  'gpt-4o': 0.01,
  'claude-3-5-sonnet': 0.015,
  'llama3.1:8b': 0,
};
/** Unknown models are priced like an expensive one, so estimates err on the safe side. */
export const UNKNOWN_MODEL_PER_1K_USD = 0.03;
/** Unknown step types (custom ones) cost this per task until they publish a price. */
export const UNKNOWN_STEP_USD = 0.001;

export interface TaskEstimate {
  stepId: string;
  uses: string;
  estimatedCostUSD: number;
}

function stepCost(step: ManifestStep): number {
  if (step.uses === 'llm.generate') {
    const model = String(step.with?.model ?? '');
    const maxTokens = Number(step.with?.max_tokens ?? 1024);
    const per1k = MODEL_PRICES_PER_1K_TOKENS_USD[model] ?? UNKNOWN_MODEL_PER_1K_USD;
    return (Math.max(0, maxTokens) / 1000) * per1k;
  }
  return STEP_PRICES_USD[step.uses] ?? UNKNOWN_STEP_USD;
}

/** How many tasks a step fans out to, when its `foreach` names a param whose value is known. */
function fanOut(step: ManifestStep, params: Record<string, unknown>): number {
  const name = /^\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}$/.exec(step.foreach ?? '')?.[1];
  if (!step.foreach) return 1;
  const value = name ? params[name] : undefined;
  return Array.isArray(value) ? value.length : 1;
}

/** Per-step and total estimate for a run of `manifest` with validated `params`. */
export function estimateRun(
  manifest: Manifest,
  params: Record<string, unknown>,
): { tasks: TaskEstimate[]; totalUSD: number } {
  const tasks = manifest.steps.map((step) => ({
    stepId: step.id,
    uses: step.uses,
    estimatedCostUSD: round(stepCost(step) * fanOut(step, params)),
  }));
  return { tasks, totalUSD: round(tasks.reduce((sum, t) => sum + t.estimatedCostUSD, 0)) };
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
