export type { TaskEstimate } from './cost.ts';
export { estimateRun, MODEL_PRICES_PER_1K_TOKENS_USD, STEP_PRICES_USD } from './cost.ts';
export { canonicalJson, digestOf } from './digest.ts';
export type {
  AdvanceInput,
  AdvancePlan,
  EngineTask,
  EngineTaskStatus,
  InitialTask,
  TaskChange,
} from './engine/advance.ts';
export {
  initialTasks,
  planAdvance,
  referencedSteps,
  TERMINAL_TASK_STATUSES,
  taskIdempotencyKey,
} from './engine/advance.ts';
export { backoffCeilingMs, RETRY_DEFAULTS, retryDelayMs, retryPolicy } from './engine/backoff.ts';
export type { Evaluation, ExpressionContext } from './engine/evaluate.ts';
export { evaluation } from './engine/evaluate.ts';
export type { AppErrorOptions, ErrorCode, SystemErrorCode, UserErrorCode } from './errors.ts';
export { AppError, AppErrors, isAppError, SYSTEM_ERROR_CODES, USER_ERROR_CODES } from './errors.ts';
export type { EntityKind } from './ids.ts';
export { ID_PREFIX, kindOfId, newId } from './ids.ts';
export { MAX_DURATION_MS, parseDuration } from './manifest/duration.ts';
export type { ContextRef, ExpressionSpan, ParsedExpression } from './manifest/expressions.ts';
export {
  EXPRESSION_CONTEXTS,
  findExpressions,
  isWholeExpression,
  parseExpression,
  RUN_FIELDS,
} from './manifest/expressions.ts';
export type { PlannedTask } from './manifest/graph.ts';
export { planTasks } from './manifest/graph.ts';
export type { ParamsResult } from './manifest/params.ts';
export { validateParams } from './manifest/params.ts';
export { MAX_PROBLEMS, parseManifest } from './manifest/parse.ts';
export type {
  Manifest,
  ManifestProblem,
  ManifestResult,
  ManifestStep,
  ParamSpec,
  ParamType,
  ParseManifestOptions,
  RetryPolicy,
} from './manifest/types.ts';
export {
  BUILTIN_STEP_TYPES,
  FOREACH_MAX,
  MAX_MANIFEST_BYTES,
  MAX_STEPS,
  PARAM_TYPES,
} from './manifest/types.ts';
export type { ScheduleSpec } from './schedule.ts';
export {
  MAX_CRON_LENGTH,
  MAX_SCHEDULE_PARAMS_BYTES,
  MAX_TIMEZONE_LENGTH,
  nextRunAt,
  validateSchedule,
  validateScheduleParams,
} from './schedule.ts';
export type { Scope } from './scope.ts';
export { isScopeToken } from './scope.ts';
